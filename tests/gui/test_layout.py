"""The window at 1280×800, a laptop screen: nothing clipped, nothing pushed wider by a run."""

import pytest
from PySide6.QtWidgets import QFormLayout, QLabel

from window_helpers import train_to_end as train_and_wait  # noqa: E402

WAIT_MS = 30_000
SIZE = (1280, 800)


def shown_at_laptop_size(qtbot, make_window, settings):
    w = make_window(settings)
    w.resize(*SIZE)
    qtbot.waitUntil(lambda: w.width() == SIZE[0], timeout=5000)
    return w


def train_to_end(qtbot, w):
    train_and_wait(qtbot, w)
    qtbot.wait(1)  # let the layouts take the new texts


# latent 10: the PCA view's variance caption beside the class a labelled model decodes as
@pytest.mark.parametrize("variant,latent", [("conditional", 2), ("beta", 2), ("beta", 10)])
def test_a_run_never_widens_the_window(qtbot, make_window, fast, variant, latent):
    w = shown_at_laptop_size(qtbot, make_window, fast.replace(variant=variant, beta=4.0, epochs=1, latent_dim=latent))
    train_to_end(qtbot, w)
    assert w.width() == SIZE[0] and w.minimumSizeHint().width() <= SIZE[0]
    assert w.frameGeometry().width() <= SIZE[0] + 20  # the frame, if the platform draws one


def test_form_labels_share_one_alignment(qtbot, make_window, fast):
    w = shown_at_laptop_size(qtbot, make_window, fast.replace(variant="beta"))
    forms = [f for f in w.controls.findChildren(QFormLayout)]
    assert len(forms) >= 5
    for form in forms:
        labels = [form.itemAt(r, QFormLayout.ItemRole.LabelRole) for r in range(form.rowCount())]
        widgets = [i.widget() for i in labels if i is not None and isinstance(i.widget(), QLabel) and i.widget().isVisible()]
        rights = {lab.geometry().right() for lab in widgets}
        assert len(rights) <= 1, [lab.text() for lab in widgets]  # right-aligned in every box
        for lab in widgets:
            assert lab.width() >= lab.sizeHint().width(), lab.text()  # never cut


def test_kl_placeholder_and_runs_comparison_fit(qtbot, make_window, fast):
    w = shown_at_laptop_size(qtbot, make_window, fast.replace(epochs=1))
    d = w.diagnostics
    w.grab()  # a paint: the text item takes its place for the view's present range
    text_rect = d.empty.mapRectToScene(d.empty.boundingRect())
    view_rect = d.plot.getViewBox().sceneBoundingRect()
    assert view_rect.contains(text_rect), (text_rect, view_rect)
    train_to_end(qtbot, w)
    w.reset()
    train_to_end(qtbot, w)
    w.reset()
    train_to_end(qtbot, w)
    w.bottom_tabs.setCurrentWidget(w.runs)
    w.runs.select([r.id for r in w.session.runs])
    qtbot.waitUntil(lambda: w.runs.table.rowCount() == 3, timeout=WAIT_MS)
    r = w.runs
    assert r.graphics.height() >= 130
    legend = r.legend.mapRectToScene(r.legend.boundingRect())
    assert r.graphics.sceneRect().contains(legend) or r.plot.sceneBoundingRect().contains(legend)
    assert r.table.height() >= r._table_height(2)
    last = r.table.visualItemRect(r.table.item(2, 0))
    assert last.isValid() and last.bottom() <= r.table.viewport().height()  # all three rows in view
