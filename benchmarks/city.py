"""The synthetic Shanghai now lives in :mod:`simulations.synthetic_city` (the simulator builds its
cities from it too); this name stays for the benchmarks that import it."""

from simulations.synthetic_city import *  # noqa: F401,F403
from simulations.synthetic_city import City, make_city, make_orders, make_workers  # noqa: F401
