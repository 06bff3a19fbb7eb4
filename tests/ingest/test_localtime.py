"""The clock-change policy of the data contract, on its own (pure, fast)."""

from datetime import date, datetime

from joinedup.ingest.localtime import LocalClock, local_midnight_utc


def test_repeated_october_hour_follows_file_order() -> None:
    clock = LocalClock("Europe/London")
    local = [datetime(2025, 10, 26, 1, m) for m in (15, 45, 5, 30)]
    utc = [clock.to_utc(t, "StartTime", row, ordered=True) for row, t in enumerate(local, start=1)]
    assert utc == [datetime(2025, 10, 26, 0, 15), datetime(2025, 10, 26, 0, 45),  # first pass, BST
                   datetime(2025, 10, 26, 1, 5), datetime(2025, 10, 26, 1, 30)]  # after the step back, GMT
    text = " ".join(clock.warnings())
    assert "rows 2, 3" not in text and "rows 1, 2 in the repeated hour on 2025-10-26 read as BST" in text
    assert "rows 3, 4 in the repeated hour on 2025-10-26 read as GMT" in text


def test_single_ambiguous_time_is_the_earlier_instant_with_a_warning() -> None:
    clock = LocalClock("Europe/London")
    assert clock.to_utc(datetime(2025, 10, 26, 1, 30), "Received", 7, ordered=True) == datetime(2025, 10, 26, 0, 30)
    (warning,) = clock.warnings()
    assert "no step back" in warning and "rows 7" in warning


def test_skipped_march_hour_is_read_as_gmt_with_a_warning() -> None:
    clock = LocalClock("Europe/London")
    assert clock.to_utc(datetime(2025, 3, 30, 1, 30), "StartTime", 2, ordered=True) == datetime(2025, 3, 30, 1, 30)
    assert clock.to_utc(datetime(2025, 3, 30, 2, 30), "StartTime", 3, ordered=True) == datetime(2025, 3, 30, 1, 30)
    (warning,) = clock.warnings()
    assert "skipped hour on 2025-03-30" in warning and "read as GMT" in warning


def test_unordered_column_takes_the_earlier_instant() -> None:
    clock = LocalClock("Europe/London")
    clock.to_utc(datetime(2025, 10, 26, 1, 50), "First Reply", 1, ordered=False)
    assert clock.to_utc(datetime(2025, 10, 26, 1, 10), "First Reply", 2, ordered=False) == datetime(2025, 10, 26, 0, 10)


def test_local_midnight() -> None:
    assert local_midnight_utc(date(2025, 7, 1), "Europe/London") == datetime(2025, 6, 30, 23, 0)
    assert local_midnight_utc(date(2025, 1, 1), "Europe/London") == datetime(2025, 1, 1, 0, 0)
