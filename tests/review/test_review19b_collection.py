"""review19b: two test modules of the disconnect suite cannot be imported on this branch (``url`` moved to
tests/admin/conftest.py in the helpers merge), so pytest stops with collection errors and the tests of the
audience change and of changes recorded while not sending never run."""
import importlib

import pytest


@pytest.mark.parametrize("module", ["tests.disconnect.test_another_audience",
                                    "tests.disconnect.test_changes_while_not_sending"])
def test_the_disconnect_tests_can_be_collected(module):
    importlib.import_module(module)
