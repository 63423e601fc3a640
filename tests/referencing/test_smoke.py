import pytest

from referencing_app.models import DossierState
from tests.factories.referencing import dossier_in, make_world


@pytest.mark.parametrize("state", [s.value for s in DossierState])
def test_dossier_can_be_brought_to_every_state(db, state):
    world = make_world()
    dossier = dossier_in(world, state)
    assert dossier.state == state
