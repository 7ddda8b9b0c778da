"""Make every scenario file in this folder a pytest item: ``python -m pytest evals/``."""

from soorma_lc.evals.pytest_plugin import (  # noqa: F401 - pytest finds the hooks here
    pytest_addoption,
    pytest_collect_file,
    pytest_sessionfinish,
    pytest_terminal_summary,
    pytest_unconfigure,
)
