"""An unexpected error in the banner: one sentence, and a link to the log that has the details."""

from pathlib import Path

from vae_studio.gui.widgets.banner import MessageBanner


def _raise():
    raise RuntimeError("the widget exploded\nsecond line of the message")


def test_an_unexpected_error_shows_one_sentence_and_links_the_log(qtbot, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("VAE_STUDIO_LOG_DIR", str(tmp_path / "logs"))
    opened = []
    monkeypatch.setattr("vae_studio.gui.widgets.banner.QDesktopServices.openUrl", lambda url: opened.append(url) or True)
    banner = MessageBanner()
    qtbot.addWidget(banner)
    banner.show()
    try:
        _raise()
    except RuntimeError as exc:
        sentence = banner.show_internal_error(exc, "drawing the map")
    text = banner.text()
    assert text == sentence and "\n" not in text and "Traceback" not in text
    assert "RuntimeError: the widget exploded" in text and "drawing the map" in text
    assert banner.details_link.isVisible() and "Details" in banner.details_link.text()
    log = tmp_path / "logs" / "errors.log"
    assert banner.details_path == log
    details = log.read_text()
    assert "Traceback" in details and "_raise" in details and "second line of the message" in details
    assert "Traceback" in capsys.readouterr().err  # and on stderr, for a terminal
    banner.details_link.linkActivated.emit("details")
    assert [Path(u.toLocalFile()) for u in opened] == [log]


def test_a_plain_message_has_no_details_link(qtbot):
    banner = MessageBanner()
    qtbot.addWidget(banner)
    banner.show()
    banner.show_message("cannot read <file>.pt", "error", details="/tmp/x.log")
    banner.show_message("cannot read <file>.pt", "error")
    assert not banner.details_link.isVisible() and banner.details_path is None
    assert banner.text() == "Cannot read <file>.pt"  # plain text: the angle brackets are not markup
    assert banner.open_details() is False
