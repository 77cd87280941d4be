from biolens.core import progress
from biolens.core.progress import progress_bar


def test_a_bar_inside_another_is_a_row_of_the_same_display(capsys):
    with progress_bar(2, "outer") as outer:
        display = progress._ACTIVE.get()
        with progress_bar(3, "inner") as inner:
            assert progress._ACTIVE.get() is display  # one live display, two rows
            assert [t.description for t in display.tasks] == ["outer", "inner"]
            inner(3, loss=0.5)
        assert [t.description for t in display.tasks] == ["outer"]  # the finished step leaves
        outer(2)
    assert progress._ACTIVE.get() is None
    assert "outer" in capsys.readouterr().err


def test_a_disabled_bar_draws_nothing(capsys):
    with progress_bar(1, "quiet", enabled=False) as advance:
        advance(1, loss=0.1)
    assert progress._ACTIVE.get() is None and capsys.readouterr().err == ""


def test_log_lines_go_above_the_bars_while_they_show(capsys):
    from biolens.core.progress import print_above

    with progress_bar(1, "outer"):
        print_above("a line of log")
    print_above("after the bars")
    err = capsys.readouterr().err
    assert "a line of log" in err and err.index("a line of log") < err.index("after the bars")
