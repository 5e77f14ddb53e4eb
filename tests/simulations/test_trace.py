"""The trace reader: good rows become orders; a bad row is an error with its line number."""

import pytest

from matcher.config import DispatchConfig
from simulations.trace import TraceError, read_orders, read_worker_events

TYPES = DispatchConfig().service.service_types
HEADER = "order_id,placed_s,service_type,lat,lng,earliest_start_s,latest_start_s,duration_s"
GOOD = "o1,60,cleaning,31.23,121.47,3600,7200,7200"


def _write(tmp_path, *lines, name="orders.csv"):
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_good_rows_become_orders_in_placement_order(tmp_path):
    path = _write(tmp_path, HEADER + ",workers_needed", GOOD + ",1",
                  "o2,30,moving,31.20,121.40,1800,3600,3600,2")
    orders = read_orders(path, 1_800_000_000, TYPES)
    assert [o.order.order_id for o in orders] == ["o2", "o1"]
    assert orders[0].order.workers_needed == 2
    assert orders[1].order.earliest_start == 1_800_003_600
    assert orders[1].placed == 60


@pytest.mark.parametrize("row, field", [
    ("o2,60,cleaning,31.23,121.47,3600,7200,abc", "duration_s"),
    ("o2,60,cleaning,95.0,121.47,3600,7200,7200", "location.latitude"),
    ("o2,60,gardening,31.23,121.47,3600,7200,7200", "service_type"),
    ("o2,-5,cleaning,31.23,121.47,3600,7200,7200", "placed_s"),
    ("o2,9000,cleaning,31.23,121.47,3600,7200,7200", "placed_s"),
    ("o2,60,cleaning,31.23,121.47,7200,3600,7200", "latest_start_time"),
    ("o1,60,cleaning,31.23,121.47,3600,7200,7200", "order_id"),
    ("o2,60,cleaning,31.23", "row"),
])
def test_a_bad_row_names_its_line_and_field(tmp_path, row, field):
    path = _write(tmp_path, HEADER, GOOD, GOOD.replace("o1", "o0"), row)
    with pytest.raises(TraceError) as caught:
        read_orders(path, 1_800_000_000, TYPES)
    assert f"{path}:4: {field}" in str(caught.value)


def test_a_missing_column_is_a_header_error(tmp_path):
    path = _write(tmp_path, HEADER.replace(",duration_s", ""), GOOD.rsplit(",", 1)[0])
    with pytest.raises(TraceError, match=r":1: header: missing column\(s\) duration_s"):
        read_orders(path, 1_800_000_000, TYPES)


def test_worker_events_bad_status_is_reported(tmp_path):
    path = _write(tmp_path, "time_s,worker_id,status", "10,w000001,OFFLINE",
                  "20,w000002,NAPPING", name="workers.csv")
    with pytest.raises(TraceError, match=r"workers.csv:3: status"):
        read_worker_events(path)
    good = _write(tmp_path, "time_s,worker_id,status", "10,w000001,offline", name="ok.csv")
    assert read_worker_events(good)[0].status.name == "OFFLINE"
