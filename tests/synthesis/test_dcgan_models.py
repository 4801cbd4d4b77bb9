import pytest
import torch
from torch import nn

from synthesis.config import image_size_of
from synthesis.models import build_discriminator, build_generator


def parameter_count(module):
    return sum(parameter.numel() for parameter in module.parameters())


# Counted by hand from the layer list: 4x4 kernels, no conv biases, BatchNorm scale + shift.
# G64: 100*512*16 + 512*256*16 + 256*128*16 + 128*64*16 + 64*1*16 + 2*(512+256+128+64).
@pytest.mark.parametrize(
    "architecture, generator_params, discriminator_params",
    [("dcgan64", 3_574_656, 2_763_520), ("dcgan128", 12_784_512, 11_162_368)],
)
def test_parameter_counts_at_default_widths(architecture, generator_params, discriminator_params):
    assert parameter_count(build_generator(architecture)) == generator_params
    assert parameter_count(build_discriminator(architecture)) == discriminator_params


@pytest.mark.parametrize("architecture, size", [("dcgan64", 64), ("dcgan128", 128)])
def test_shapes_and_output_ranges(architecture, size):
    generator = build_generator(architecture, nz=16, ngf=8)
    discriminator = build_discriminator(architecture, ndf=8)
    images = generator(torch.randn(3, 16, 1, 1))
    assert images.shape == (3, 1, size, size)
    assert images.min() >= -1 and images.max() <= 1
    logits = discriminator(images)
    assert logits.shape == (3,)
    assert isinstance(generator[-1], nn.Tanh) and not isinstance(discriminator[-1], nn.Sigmoid)


def test_dcgan128_adds_one_block_each():
    def convolutions(module):
        return sum(isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d)) for layer in module)

    assert convolutions(build_generator("dcgan128")) == convolutions(build_generator("dcgan64")) + 1
    assert convolutions(build_discriminator("dcgan128")) == convolutions(build_discriminator("dcgan64")) + 1


def test_first_discriminator_layer_has_no_batchnorm():
    discriminator = build_discriminator("dcgan64")
    assert isinstance(discriminator[0], nn.Conv2d) and isinstance(discriminator[1], nn.LeakyReLU)
    assert discriminator[1].negative_slope == 0.2


@torch.no_grad()
def test_paper_initialisation():
    torch.manual_seed(0)
    generator = build_generator("dcgan64")
    conv_weights = torch.cat([m.weight.flatten() for m in generator.modules() if isinstance(m, nn.ConvTranspose2d)])
    norms = [m for m in generator.modules() if isinstance(m, nn.BatchNorm2d)]
    scales = torch.cat([m.weight for m in norms])
    assert conv_weights.mean().abs() < 1e-3 and conv_weights.std().item() == pytest.approx(0.02, rel=0.02)
    assert scales.mean().item() == pytest.approx(1.0, abs=0.01) and scales.std().item() == pytest.approx(0.02, rel=0.2)
    assert all(torch.count_nonzero(m.bias) == 0 for m in norms)


def test_unknown_architecture_is_refused():
    with pytest.raises(ValueError, match="unknown architecture 'dcgan32'.*dcgan64, dcgan128"):
        build_generator("dcgan32")
    with pytest.raises(ValueError, match="unknown architecture"):
        image_size_of("resnet")
