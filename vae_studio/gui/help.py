"""Help: what the window shows, in plain words, and the keyboard shortcuts."""

from __future__ import annotations

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

GUIDE = """
<h2>What am I looking at?</h2>
<p>A <b>variational autoencoder</b> (VAE) learns to squeeze each image into a few numbers and to draw
the image back from them.</p>
<ul>
<li><b>Encoder</b>: a network that reads an image and gives a small Gaussian for it: a mean μ and a spread σ
in the <i>latent space</i>. The code <b>z</b> is drawn from that Gaussian (the reparameterisation trick
makes the draw trainable).</li>
<li><b>Decoder</b>: a network that turns a code z back into an image.</li>
<li><b>Latent space</b> (the big map, top left): every dot is a held-out image, placed at its mean μ and
coloured by its class. Click anywhere to decode that point (right: the decoded image); drag the
<b>Latent dimensions</b> sliders to move one coordinate of z. The circles are 1σ, 2σ and 3σ of the prior
N(0, I), where the model is asked to keep its codes; with a learned mixture prior (the <b>Prior</b>
setting) they are the 1σ ellipses of its components, which move as it learns.</li>
<li><b>Reconstruction</b> (loss plot, blue): how many nats the decoder needs to describe an image given its
code. Lower is a sharper copy.</li>
<li><b>KL</b> (loss plot, orange; chart on the right per dimension): how far each image's Gaussian is from the
prior, in nats: the information the code carries. A dimension with KL near 0 is unused (greyed out).</li>
<li><b>−ELBO</b> = reconstruction + KL: the loss the VAE minimises, an upper bound on −log p(x).
Solid lines are training (smoothed), dots the held-out set once an epoch.</li>
<li><b>β</b> (β panel): the weight of the KL term. β &gt; 1 trades sharp reconstructions for a tidier latent
space whose dimensions tend to capture separate factors; β = 1 is the plain VAE.</li>
<li><b>Conditional VAE</b>: encoder and decoder also see the class label, so z only holds the style;
the same z decodes as any class.</li>
<li><b>KL warm-up and free bits</b> (KL box): ways to stop the KL term from switching dimensions off
(posterior collapse) early in training.</li>
</ul>
<p>The <b>Generate</b> tab decodes samples from the prior, the manifold of the visible map, traversals of each
dimension and interpolations; <b>Draw</b> lets you draw a digit and see where it lands; <b>Runs</b> compares
every run of this session.</p>
<p>What a trained VAE is for: <b>Apply</b> corrupts a digit (noise, a box, strokes you rub out) and shows the
VAE's restoration beside a median filter, with PSNR in dB (higher is closer to the clean digit);
<b>Anomalies</b> scores held-out digits or another dataset (higher = more anomalous), with the ROC and a
threshold to flag images. A likelihood mostly says how simple an image is, so the recommended score
(★ atypicality) corrects the reconstruction for the image's complexity and adds how far the image's code
lands from the training codes of each class. Under the map, the <b>5-NN class accuracy</b> says how well the map keeps the
classes apart, beside a 2-D PCA of the raw pixels.</p>
"""


def shortcuts_html(actions: list[QAction]) -> str:
    rows = "".join(
        f"<tr><td style='padding-right:18px'><b>{a.shortcut().toString(QKeySequence.SequenceFormat.NativeText)}"
        f"</b></td><td>{a.text().replace('&', '')}</td></tr>"
        for a in actions if not a.shortcut().isEmpty()
    )
    return f"<h2>Keyboard shortcuts</h2><table>{rows}</table>"


class HelpDialog(QDialog):
    def __init__(self, title: str, html: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.browser = QTextBrowser()
        self.browser.setOpenExternalLinks(True)
        self.browser.setHtml(html)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser)
        layout.addWidget(buttons)
        self.resize(620, 560)
