"""A stable release outlives its author's account: the trigger lets an UPDATE through when it changes nothing but
``created_by`` to NULL (what deleting the user does, ``on_delete=SET_NULL``; ``created_by_name`` keeps the name)."""

from django.db import migrations

STABLE_IMMUTABLE = """
CREATE OR REPLACE FUNCTION dataproducts_release_stable_immutable() RETURNS trigger AS $$
DECLARE
    unchanged dataproducts_release%ROWTYPE;
BEGIN
    IF OLD.kind = 'stable' THEN
        IF TG_OP = 'UPDATE' AND NEW.created_by_id IS NULL THEN
            unchanged := NEW;
            unchanged.created_by_id := OLD.created_by_id;
            IF unchanged IS NOT DISTINCT FROM OLD THEN
                RETURN NEW;
            END IF;
        END IF;
        RAISE EXCEPTION 'release % is stable: a stable release cannot be changed or deleted', OLD.version
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""
STABLE_IMMUTABLE_BEFORE = """
CREATE OR REPLACE FUNCTION dataproducts_release_stable_immutable() RETURNS trigger AS $$
BEGIN
    IF OLD.kind = 'stable' THEN
        RAISE EXCEPTION 'release % is stable: a stable release cannot be changed or deleted', OLD.version
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""


class Migration(migrations.Migration):
    dependencies = [("dataproducts", "0003_releases")]

    operations = [migrations.RunSQL(STABLE_IMMUTABLE, STABLE_IMMUTABLE_BEFORE)]
