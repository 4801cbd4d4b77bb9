"""DCGAN generator and discriminator after Radford, Metz & Chintala (2016), in the pytorch/examples layout.

Both networks are a stack of 4x4 convolutions that double (generator) or halve (discriminator) the image
side, with widths ``ngf * 2**k``/``ndf * 2**k``. ``dcgan64`` is the pytorch/examples DCGAN with one channel;
``dcgan128`` adds one up-sampling block to the generator and one down-sampling block to the discriminator,
so its widest layer is ``16 * ngf``/``16 * ndf``.

The discriminator returns logits (shape ``(batch,)``), not probabilities: training pairs it with
``BCEWithLogitsLoss``, which is the paper's Sigmoid + BCELoss computed stably and safe under autocast.
"""

import math

from torch import nn

from .config import image_size_of


def _widths(image_size, base):
    """Channel widths from the 4x4 end of the network to the full-resolution end, e.g. 512, 256, 128, 64."""
    blocks = int(math.log2(image_size)) - 2
    return [base * 2**k for k in reversed(range(blocks))]


class Generator(nn.Sequential):
    """Latent noise ``(batch, nz, 1, 1)`` -> image ``(batch, nc, image_size, image_size)`` in [-1, 1]."""

    def __init__(self, image_size=64, nz=100, ngf=64, nc=1):
        widths = _widths(image_size, ngf)
        layers = [nn.ConvTranspose2d(nz, widths[0], 4, 1, 0, bias=False), nn.BatchNorm2d(widths[0]), nn.ReLU(True)]
        for wide, narrow in zip(widths, widths[1:]):
            layers += [nn.ConvTranspose2d(wide, narrow, 4, 2, 1, bias=False), nn.BatchNorm2d(narrow), nn.ReLU(True)]
        layers += [nn.ConvTranspose2d(widths[-1], nc, 4, 2, 1, bias=False), nn.Tanh()]
        super().__init__(*layers)


class Discriminator(nn.Sequential):
    """Image ``(batch, nc, image_size, image_size)`` -> real-vs-fake logit ``(batch,)``."""

    def __init__(self, image_size=64, ndf=64, nc=1):
        widths = _widths(image_size, ndf)[::-1]
        # No BatchNorm on the input layer (paper, section 3): normalising raw pixels destabilised training.
        layers = [nn.Conv2d(nc, widths[0], 4, 2, 1, bias=False), nn.LeakyReLU(0.2, True)]
        for narrow, wide in zip(widths, widths[1:]):
            layers += [nn.Conv2d(narrow, wide, 4, 2, 1, bias=False), nn.BatchNorm2d(wide), nn.LeakyReLU(0.2, True)]
        layers += [nn.Conv2d(widths[-1], 1, 4, 1, 0, bias=False), nn.Flatten(0)]
        super().__init__(*layers)


def init_weights(module):
    """The paper's initialisation: convolutions N(0, 0.02); BatchNorm scale N(1, 0.02), shift 0."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, 0.02)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


def build_generator(architecture, nz=100, ngf=64, nc=1):
    """A freshly initialised generator of the named architecture (draws from torch's global RNG)."""
    generator = Generator(image_size_of(architecture), nz, ngf, nc)
    generator.apply(init_weights)
    return generator


def build_discriminator(architecture, ndf=64, nc=1):
    """A freshly initialised discriminator of the named architecture (draws from torch's global RNG)."""
    discriminator = Discriminator(image_size_of(architecture), ndf, nc)
    discriminator.apply(init_weights)
    return discriminator
