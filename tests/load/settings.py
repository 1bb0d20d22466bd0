"""Settings for ``make load``: the real settings as the scale data set was written with them
(DEBUG's development keys decrypt its phones; plain HTTP on 127.0.0.1), served as production
serves: DEBUG off, so no query log, no debug pages."""

import os

os.environ.setdefault("DEBUG", "1")

from crm.settings import *  # noqa: F403

DEBUG = False
