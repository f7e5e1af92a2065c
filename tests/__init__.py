"""The tests as a package: pytest and the test modules then load tests/conftest.py once, as tests.conftest
(without it, `from tests.conftest import make_app` loaded a second copy that knew nothing of the
session's migrated database and migrated every app it made)."""
