import copy
from pathlib import Path

import pytest

TEMPLATES_DIR = Path(__file__).parent / "templates"


@pytest.fixture
def email_templates(settings):
    """Makes the test-only verb ``test_ping`` renderable (tests/notifications/templates/emails).

    The copy keeps the loaders template_partials wrapped at start-up; changing the setting
    resets the template engines, so the new directory is picked up and dropped afterwards.
    """
    templates = copy.deepcopy(settings.TEMPLATES)
    templates[0]["DIRS"] = [*templates[0]["DIRS"], TEMPLATES_DIR]
    settings.TEMPLATES = templates
