"""A pose task from Python: `info()` says which features are rendered and how
the image is drawn, `images()` gives the pictures a learner sees for any
observations (the training arrays' or a trace's), and a task without images
refuses."""

import numpy as np
import pytest

import synth


@pytest.fixture(scope="module")
def pose():
    return synth.compile("pose_car")


def test_info_marks_the_rendered_features(pose):
    obs = pose.info()["observation"]
    rendered = [f["name"] for f in obs["features"] if f.get("rendered")]
    assert rendered == ["azimuth", "elevation", "car"]
    assert obs["image"]["side"] == 32
    assert obs["one_hot_width"] == 24 + 13
    # A trace's JSON lists the features the same way.
    assert pose.trace(1, 0).to_dict()["features"] == obs["features"]


def test_images_of_the_training_observations(pose):
    b = pose.batches(traces=4)
    imgs = pose.images(b["obs"])
    assert imgs.shape == (len(b["obs"]), 32, 32)
    assert imgs.dtype == np.float32
    assert 0.0 <= imgs.min() and imgs.max() <= 1.0 and imgs.max() > 0.2
    # The same observation, the same picture; another azimuth, another one.
    first = b["obs"][0]
    assert np.array_equal(pose.images(first)[0], imgs[0])
    turned = first.copy()
    turned[0] = (turned[0] + 1) % 24
    assert not np.array_equal(pose.images(turned)[0], imgs[0])


def test_images_refuses_other_tasks_and_bad_shapes(pose):
    with pytest.raises(ValueError, match="no images"):
        synth.compile("increment").images(np.zeros((1, 6), dtype=np.int64))
    with pytest.raises(ValueError, match="observations"):
        pose.images(np.zeros((2, 3), dtype=np.int64))
