from django.contrib.auth import get_user_model
from rest_framework import serializers


class TeamSerializer(serializers.Serializer):
    name = serializers.CharField()


class MeSerializer(serializers.ModelSerializer):
    teams = serializers.SerializerMethodField()

    class Meta:
        model = get_user_model()
        fields = ["id", "username", "first_name", "last_name", "email", "is_staff", "teams"]
        read_only_fields = fields

    def get_teams(self, user) -> list[str]:
        return sorted(group.name for group in user.groups.all())
