//! The pictures a pose world's learner sees, rendered once per car and pose.
//!
//! An observation of a world with an [`ImageSpec`] shows, in place of its
//! rendered features, the car of feature `car` seen from the camera pose of
//! features `azimuth` and `elevation` ([`synth_compiler::car_render`]).
//! [`pixels`] returns that image as floats in `0..=1` (gray / 255), row by
//! row from the top, the layout of the encoder input's pixel columns
//! ([`super::data::ModelShape::pixel_offset`]).
//!
//! Rendering is pure, so the images are memoised in one process-wide cache
//! keyed by `(side, car, azimuth, elevation)`: a training set meets a few
//! thousand poses, and every batch and every closed-loop step looks its
//! images up again. The cache only saves time: a lookup returns the same
//! values whether it hits or renders, so results never depend on what was
//! cached, by which thread, or in which order. It holds at most
//! [`CACHE_BYTES`] of pixels and is emptied when a new image would pass that.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use synth_compiler::car_render::{self, Car};
use synth_compiler::task::ImageSpec;

/// The most bytes of pixels the cache keeps.
pub const CACHE_BYTES: usize = 256 << 20;

/// `(side, car seed, azimuth, elevation)`: what decides an image.
type Key = (u16, u64, i32, i32);

#[derive(Default)]
struct Cache {
    images: HashMap<Key, Arc<[f32]>>,
    bytes: usize,
}

fn cache() -> &'static Mutex<Cache> {
    static CACHE: OnceLock<Mutex<Cache>> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

/// Whether `spec` can be drawn for every observation: its side is one the
/// renderer accepts, and no feature value (any `u16`) takes a pose angle
/// out of `i32`. A spec from the compiler always can; one read from a file
/// may not.
pub fn drawable(spec: &ImageSpec) -> bool {
    let side = spec.side as usize;
    // `origin + step * v` is monotone in `v`: both ends fit, all fit.
    let angle_fits = |origin: i32, step: i32| step.checked_mul(u16::MAX as i32).and_then(|m| origin.checked_add(m)).is_some();
    (car_render::MIN_SIZE..=car_render::MAX_SIZE).contains(&side)
        && angle_fits(spec.azimuth_origin, spec.azimuth_step)
        && angle_fits(spec.elevation_origin, spec.elevation_step)
}

/// The car seed, azimuth and elevation `obs` shows; `None` when `obs` lacks
/// one of the features or `spec` is not [`drawable`].
pub fn pose(spec: &ImageSpec, obs: &[u16]) -> Option<(u64, i32, i32)> {
    let needed = spec.car.max(spec.azimuth).max(spec.elevation);
    (needed < obs.len() && drawable(spec)).then(|| spec.pose(obs))
}

/// The image `obs` shows under `spec`: `spec.pixels()` grays in `0..=1`,
/// row by row. All black (zeros) when `obs` has no pose ([`pose`]).
pub fn pixels(spec: &ImageSpec, obs: &[u16]) -> Arc<[f32]> {
    let Some((car, azimuth, elevation)) = pose(spec, obs) else {
        return black(spec.pixels());
    };
    let key = (spec.side, car, azimuth, elevation);
    if let Some(hit) = lock().images.get(&key) {
        return hit.clone();
    }
    // Rendered without the lock, so that threads missing different poses
    // do not wait for each other; two threads missing the same pose both
    // render it, to the same values.
    let image = car_render::render(&Car::from_seed(car), azimuth, elevation, spec.side as usize);
    let grays: Arc<[f32]> = image.pixels.iter().map(|&g| g as f32 / 255.0).collect();
    let mut cache = lock();
    let size = grays.len() * std::mem::size_of::<f32>();
    if cache.bytes + size > CACHE_BYTES {
        cache.images.clear();
        cache.bytes = 0;
    }
    let kept = cache.images.entry(key).or_insert_with(|| grays.clone()).clone();
    if Arc::ptr_eq(&kept, &grays) {
        cache.bytes += size;
    }
    kept
}

fn lock() -> std::sync::MutexGuard<'static, Cache> {
    // The cache is consistent at every point a panic could leave it.
    cache().lock().unwrap_or_else(|e| e.into_inner())
}

/// `n` black pixels, shared.
fn black(n: usize) -> Arc<[f32]> {
    vec![0.0; n].into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(side: u16) -> ImageSpec {
        ImageSpec { side, car: 0, azimuth: 2, elevation: 3, azimuth_step: 15, elevation_step: 15, azimuth_origin: -180, elevation_origin: -90 }
    }

    /// The image is the renderer's, gray / 255, and a second lookup gives
    /// the same values.
    #[test]
    fn pixels_are_the_rendered_grays() {
        let s = spec(8);
        let obs = [7, 4, 12, 7];
        let image = car_render::render(&Car::from_seed(7), 0, 15, 8);
        let got = pixels(&s, &obs);
        assert_eq!(got.len(), 64);
        for (p, &g) in got.iter().zip(&image.pixels) {
            assert_eq!(*p, g as f32 / 255.0);
        }
        assert!(got.iter().any(|&p| p > 0.0));
        assert_eq!(&*pixels(&s, &obs), &*got);
        // Another pose, another image.
        assert_ne!(&*pixels(&s, &[7, 4, 13, 7]), &*got);
    }

    /// What a file could hold does not panic: a missing feature or an
    /// undrawable spec shows a black image.
    #[test]
    fn an_observation_without_a_pose_is_black() {
        assert_eq!(&*pixels(&spec(8), &[7, 4]), &[0.0; 64][..]);
        let huge = ImageSpec { elevation_step: i32::MAX, ..spec(8) };
        assert!(!drawable(&huge));
        assert_eq!(&*pixels(&huge, &[7, 4, 12, 7]), &[0.0; 64][..]);
        assert!(!drawable(&spec(4)));
        assert_eq!(pixels(&spec(4), &[7, 4, 12, 7]).len(), 16);
    }
}
