"""How the Builder reads and writes Git: the provider of repositories (``provider``), round-trip YAML that
keeps a file's layout (``roundtrip``), diffs (``diff``) and the one door through which an entity's file is
changed (``patch.entity_file_patch``), used by edits and, later, reverse provisioning."""
