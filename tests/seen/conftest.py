"""The API tests' fixtures (a service with a bank holding a reference image's PDQ)."""

from tests.api.conftest import original_pdq, service  # noqa: F401 - fixtures shared
