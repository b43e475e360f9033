"""OpenStack's own API tests (Tempest) against the quick-start cloud.

What runs is ``tempest/include-list.txt`` minus ``tempest/skip-list.txt``
(every entry with its reason); Tempest itself skips what tempest.conf
switches off (``quickstart/tempest_run.py``).  Every test that runs must
pass.
"""

import os

import pytest

from quickstart import tempest_run


# The stack may start inside this test's time (when run alone), and Tempest
# boots and deletes a few hundred servers and volumes.
@pytest.mark.timeout(7200)
def test_tempest(stack):
    run = tempest_run.TempestRun(
        stack, say=lambda msg: None,
        concurrency=int(os.environ.get('NUTANIX_E2E_TEMPEST_CONCURRENCY',
                                       '4')))
    results = run.run()
    summary = results.summary()
    with open(stack.lay.path('logs', 'tempest-summary.txt'), 'w') as f:
        f.write(summary + '\n')
        for reason, n in results.skip_reasons().most_common():
            f.write('skipped %4d: %s\n' % (n, reason))
    print(summary)
    assert results.status, 'Tempest ran no test; see %s' % run.log_path
    assert not results.failures(), summary
