"""The Generate tab: a page selector over the generated pictures.

The selector is a row of buttons that wraps onto a second row when the pane is narrow, so every
page stays one click away at any width (a tab bar would hide some behind scroll arrows). Pages
are only re-decoded when they are on screen; a change that arrives while one is hidden just
marks it stale.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect, QSize, Qt, QTimer
from PySide6.QtWidgets import QButtonGroup, QLayout, QStackedWidget, QToolButton, QVBoxLayout, QWidget

from ....core import explorer_state as S
from .grid_pages import GridPage, InterpolationPage, ManifoldPage, PriorPage, TraversalPage
from .label_pages import LabelSweepPage, StyleTransferPage

SELECTOR_STYLE = """
QToolButton#pageButton { padding: 2px 6px; border: 1px solid palette(mid); border-radius: 4px; background: palette(button); }
QToolButton#pageButton:checked { font-weight: 600; background: palette(highlight); color: palette(highlighted-text);
                                 border-color: palette(highlight); }
"""


class FlowLayout(QLayout):
    """Items left to right, wrapping onto a new row when the next one would not fit."""

    def __init__(self, parent: QWidget | None = None, spacing: int = 4):
        super().__init__(parent)
        self._items = []
        self._spacing = spacing
        self.setContentsMargins(0, 0, 0, 0)

    def addItem(self, item) -> None:
        self._items.append(item)

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, i: int):
        return self._items[i] if 0 <= i < len(self._items) else None

    def takeAt(self, i: int):
        return self._items.pop(i) if 0 <= i < len(self._items) else None

    def expandingDirections(self):
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return self._arrange(QRect(0, 0, width, 0), move=False)

    def setGeometry(self, rect: QRect) -> None:
        super().setGeometry(rect)
        self._arrange(rect, move=True)

    def sizeHint(self) -> QSize:
        return self.minimumSize()

    def minimumSize(self) -> QSize:
        size = QSize()
        for item in self._items:
            size = size.expandedTo(item.minimumSize())
        return size

    def _arrange(self, rect: QRect, move: bool) -> int:
        x, y, row_h = rect.x(), rect.y(), 0
        for item in self._items:
            if item.widget() is not None and item.widget().isHidden():
                continue
            hint = item.sizeHint()
            if x > rect.x() and x + hint.width() > rect.right() + 1:
                x, y, row_h = rect.x(), y + row_h + self._spacing, 0
            if move:
                item.setGeometry(QRect(QPoint(x, y), hint))
            x += hint.width() + self._spacing
            row_h = max(row_h, hint.height())
        return y + row_h - rect.y()


class GenerationPanel(QWidget):
    """The generated pictures; ``tabs`` is the stack of pages, ``buttons`` the selector."""

    def __init__(self, state: S.ExplorerState, parent: QWidget | None = None):
        super().__init__(parent)
        self.state = state
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 4, 2, 0)
        layout.setSpacing(2)
        self.selector = QWidget()
        self.selector.setStyleSheet(SELECTOR_STYLE)
        flow = FlowLayout(self.selector)
        self.tabs = QStackedWidget()
        self.prior = PriorPage(state)
        self.manifold = ManifoldPage(state)
        self.traversal = TraversalPage(state)
        self.interpolation = InterpolationPage(state)
        self.label_sweep = LabelSweepPage(state)
        self.style_transfer = StyleTransferPage(state)
        self._group = QButtonGroup(self)
        self.buttons: dict[GridPage, QToolButton] = {}
        for page in self.all_pages():
            b = QToolButton()
            b.setObjectName("pageButton")
            b.setText(page.tab_title or page.title)
            b.setToolTip(page.title)
            b.setCheckable(True)
            b.clicked.connect(lambda _=False, p=page: self.show_page(p))
            self._group.addButton(b)
            flow.addWidget(b)
            self.buttons[page] = b
            self.tabs.addWidget(page)
        layout.addWidget(self.selector)
        layout.addWidget(self.tabs, 1)
        self.buttons[self.prior].setChecked(True)
        self.tabs.currentChanged.connect(self._on_page)
        self._conditional = True
        self.set_conditional(state.conditional)
        # panning the map re-decodes the manifold, but at most ~8 times a second
        self._manifold_timer = QTimer(self)
        self._manifold_timer.setSingleShot(True)
        self._manifold_timer.setInterval(120)
        self._manifold_timer.timeout.connect(self._refresh_manifold)
        state.subscribe(self._on_state)

    def all_pages(self) -> list[GridPage]:
        return [self.prior, self.manifold, self.traversal, self.interpolation, self.label_sweep, self.style_transfer]

    def pages(self) -> list[GridPage]:
        """The pages the current model can draw (label pages only for a conditional one)."""
        base = [self.prior, self.manifold, self.traversal, self.interpolation]
        return base + ([self.label_sweep, self.style_transfer] if self._conditional else [])

    def set_conditional(self, on: bool) -> None:
        """Offer the label sweep and style transfer pages only for a model that takes a label."""
        self._conditional = bool(on)
        for page in (self.label_sweep, self.style_transfer):
            self.buttons[page].setVisible(self._conditional)
            page.stale = True
        if not self._conditional and self.tabs.currentWidget() in (self.label_sweep, self.style_transfer):
            self.show_page(self.prior)
        self.selector.layout().invalidate()

    def show_page(self, page: GridPage) -> None:
        self.buttons[page].setVisible(True)
        self.buttons[page].setChecked(True)
        self.tabs.setCurrentWidget(page)
        self.refresh_visible()

    def invalidate(self, pages: list[GridPage] | None = None) -> None:
        """Mark pages stale (all by default) and redraw the one on screen."""
        for p in pages or self.all_pages():
            p.stale = True
        self.refresh_visible()

    def refresh_visible(self) -> None:
        page = self.tabs.currentWidget()
        if page is not None and page.stale and self.isVisible():
            page.refresh()

    def _on_page(self, _=0) -> None:
        self.buttons[self.tabs.currentWidget()].setChecked(True)
        self.refresh_visible()

    def _on_state(self, changed: frozenset) -> None:
        if S.CONDITIONAL in changed and self.state.conditional != self._conditional:
            self.set_conditional(self.state.conditional)
        for page in self.all_pages():
            page.on_state(changed)
        if changed == {S.REGION}:
            # the map is being panned: the manifold follows at a bounded rate
            if self.isVisible() and self.tabs.currentWidget() is self.manifold:
                self._manifold_timer.start()
            return
        self.refresh_visible()

    def _refresh_manifold(self) -> None:
        if self.manifold.stale:
            self.manifold.refresh()

    def showEvent(self, ev) -> None:
        super().showEvent(ev)
        self.refresh_visible()
