"""A seedable synthetic city modelled on Wuhai, delivered in the messy formats departments send,
with a ground truth to measure the ETL against. Entry point: :func:`generate_city`."""

from geoplatform.demo.city import DemoReport, generate_city
from geoplatform.demo.config import AddressVariantShares, CityTargets, targets_for_scale
from geoplatform.demo.truth import REJECT_REASONS, RejectReason

__all__ = [
    "REJECT_REASONS",
    "AddressVariantShares",
    "CityTargets",
    "DemoReport",
    "RejectReason",
    "generate_city",
    "targets_for_scale",
]
