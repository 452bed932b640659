"""The staging reset (`playbooks/reset_staging.yml`, forced) on both sites at once mints new tokens on each.

Runs after test_fleet.py (pytest collects the folder in name order), so the converged state is checked
first and this test then replaces it.
"""

import re

from delivered import SECRET_KEYS, run_playbook
from fleet_sites import SITES, file_mode


def test_reset_staging_mints_new_working_tokens_on_every_site():
    before = {site.host: site.credentials() for site in SITES}

    # --forks 2: both sites at once, each on its own listener port.
    rc, out = run_playbook("reset_staging.yml", "--forks", "2", timeout=600)
    assert rc == 0, out[-3000:]
    for site in SITES:
        recap = rf"^{site.host}\s+: ok=\d+\s+changed=[1-9]\d*\s+unreachable=0\s+failed=0"
        assert re.search(recap, out, re.M), out[-3000:]

    for site in SITES:
        after = site.credentials()
        assert after["access_token"] != before[site.host]["access_token"], site.host
        assert after["access_token_secret"] != before[site.host]["access_token_secret"], site.host
        assert file_mode(site.credentials_path) == 0o600
        assert site.signed_get(after).status_code == 200, site.host
        assert site.signed_get(before[site.host]).status_code == 401, site.host  # the old token is gone
        assert site.token_types() == ["access"], site.host
        for key in SECRET_KEYS:  # neither the old nor the new secrets were printed
            assert before[site.host][key] not in out, (site.host, key)
            assert after[key] not in out, (site.host, key)

    a, b = SITES
    assert b.signed_get(a.credentials()).status_code == 401
    assert a.signed_get(b.credentials()).status_code == 401
