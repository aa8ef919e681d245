"""The issue's proof: the demo walk (DEMO_WALK=1 make demo) adds a product with a picture and a variant, a
coupon, a paid, shipped and partly refunded order, and prints them from the emulator."""
import os
import subprocess
import sys

import pytest

from tests.packaging.conftest import free_port


@pytest.mark.packaging
@pytest.mark.timeout(900)
def test_the_demo_walk_reaches_its_end(sources):
    """Observed at 9b7d4a5: step 11 (the coupon) dies with ValidationError "The product is not supplied by
    Default Supplier." — coupon_step orders the step-4 product (supplied only by the "Walk" supplier) with
    factories.get_default_supplier(shop); the walk exits 1 before printing the coupon, and a new user running
    the documented walk sees a traceback."""
    env = dict(os.environ, DEMO_WALK="1", DEMO_PORT=str(free_port()), DEMO_EMULATOR_PORT=str(free_port()),
               PYTHONPATH=sources)
    done = subprocess.run([sys.executable, os.path.join(sources, "demo", "run.py")], cwd=sources, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=900)
    output = done.stdout.decode(errors="replace")
    assert done.returncode == 0, output[-3000:]
    assert "not supplied by" not in output
