import pytest

from core.testing.git import GitRepo


@pytest.fixture(autouse=True)
def catalog_dirs(settings, tmp_path):
    """Each test fetches into mirrors of its own."""
    settings.CATALOG_MIRROR_DIR = tmp_path / "mirrors"
    settings.CATALOG_URL_ALLOWED_HOSTS = []


@pytest.fixture
def make_repo(tmp_path):
    """``make_repo("name")`` creates a local bare repository with a working clone."""
    return lambda name="repo", branch="main": GitRepo(tmp_path / "git", name, branch)
