import sys
from pathlib import Path

import pytest

# tests import their helpers (oracle.py) as top-level modules
sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread() -> None:
    """The tests' tensors are tiny: starting worker threads would cost more than the
    arithmetic. Torch is looked up, not imported, so that a run of tests that never
    use it does not pay for loading it; the test modules are imported before this runs."""
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(1)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize the shared family tests (tests/family_suite.py) from their class."""
    from family_suite import FamilySuite

    cls = metafunc.cls
    if cls is None or not issubclass(cls, FamilySuite):
        return
    if "option_set" in metafunc.fixturenames:
        metafunc.parametrize("option_set", list(cls.option_sets.values()), ids=list(cls.option_sets))
    if "pin" in metafunc.fixturenames:
        metafunc.parametrize(("pin", "says"), cls.pins, ids=[str(i) for i in range(len(cls.pins))])
