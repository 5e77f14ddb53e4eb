"""Geographic primitives: distances, travel times and spatial lookups."""

from geo.distance import EARTH_RADIUS_KM, haversine_km
from geo.spatial import SpatialIndex
from geo.travel import TravelModel

__all__ = ["EARTH_RADIUS_KM", "SpatialIndex", "TravelModel", "haversine_km"]
