"""crmlab.simulate.relationships: the truth stored beside the simulated CRM systems."""

from __future__ import annotations

import numpy as np

from crmlab import simulate


def test_people_no_system_recorded_are_counted():
    crm = simulate.crm_sources(3000, seed=2026)
    known = crm.truth["person_id"].nunique()
    assert crm.params["persons_in_no_system"] == 3000 - known == 152
    # about 0.2 (no purchase) x 0.65 (no ticket) x 0.4 (not in marketing) = 5.2% of people
    shares = [
        simulate.crm_sources(2000, seed=s).params["persons_in_no_system"] / 2000 for s in range(5)
    ]
    assert abs(np.mean(shares) - 0.2 * 0.65 * 0.4) < 0.01
    # every record's person is one of the people built
    assert crm.truth["person_id"].between(0, 2999).all()
