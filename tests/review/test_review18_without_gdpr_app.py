"""Review 18: Shuup's GDPR app (``shuup.gdpr``) is optional in a Shuup project, and nothing in docs/installation.rst
asks for it. The site script's resource injection (``shoop_mailchimp.storefront.site_script``) imports
``shuup.gdpr.models`` at module level: in a project without that app the import raises, and xtheme's engine loads
every ``xtheme_resource_injection`` provide when it renders any page, so every storefront page fails once the addon
is installed, whether or not the shop uses the site script."""
import os
import subprocess
import sys
import textwrap

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

SETTINGS = textwrap.dedent("""
    from tests.settings import *  # noqa
    INSTALLED_APPS = [app for app in INSTALLED_APPS if app != "shuup.gdpr"]
    MIDDLEWARE = [name for name in MIDDLEWARE if "gdpr" not in name]
""")

RENDER_STEP = textwrap.dedent("""
    import django
    django.setup()
    from shuup.apps.provides import get_provide_objects
    # What shuup.xtheme.engine.XthemeTemplate._postprocess does for every page it renders:
    for inject in get_provide_objects("xtheme_resource_injection"):
        assert callable(inject)
    print("ok")
""")


@pytest.mark.timeout(300)
def test_a_project_without_shuup_gdpr_can_render_pages(tmp_path):
    (tmp_path / "settings_without_gdpr.py").write_text(SETTINGS)
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="settings_without_gdpr",
               PYTHONPATH=os.pathsep.join([str(tmp_path), ROOT, os.environ.get("PYTHONPATH", "")]))
    done = subprocess.run([sys.executable, "-c", RENDER_STEP], env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=240)
    assert done.returncode == 0 and "ok" in done.stdout, done.stderr[-1500:]
