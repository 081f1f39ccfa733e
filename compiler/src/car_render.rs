//! Procedural cars and a small software renderer for them, for the NPI
//! "car canonicalisation" task (Reed & de Freitas 2016, section 4.1): the
//! learner sees a grayscale image of a car at a camera pose (azimuth,
//! elevation) and rotates the camera in 15-degree steps to a target pose.
//!
//! The paper rendered CAD models; here a car is built from parametric parts
//! drawn from a seed ([`Car::from_seed`]), so "seen" and "unseen" cars are
//! disjoint seed sets. [`render`] draws a car at a pose and [`png`] encodes
//! the image. Everything is pure and deterministic: no IO, no clocks, no
//! global state; the same car, pose and size give the same bytes on every
//! run and platform (f64 arithmetic with `+ - * /` and `sqrt` only, which
//! IEEE 754 rounds exactly, and sines of whole degrees from a table rather
//! than from libm).
//!
//! ```
//! use synth_compiler::car_render::{png, render, Car};
//!
//! let car = Car::from_seed(7);
//! // The paper's canonical pose: azimuth 0, elevation 15, here at 64x64.
//! let image = render(&car, 0, 15, 64);
//! assert_eq!((image.width, image.height), (64, 64));
//! assert!(image.pixels.iter().any(|&p| p != 0)); // the car is in view ...
//! assert_eq!(image.pixels[0], 0); // ... and the background is black
//! let file: Vec<u8> = png(&image); // 8-bit grayscale PNG bytes
//! assert_eq!(&file[1..4], b"PNG");
//! ```
//!
//! # The car
//!
//! The car's own frame: `x` points forward (the front is at `+x`), `y` to
//! the car's left, `z` up; the wheels stand on `z = 0`. The parts, each a
//! closed convex mesh of flat-shaded triangles with an albedo:
//! - the body: a box whose top front and top rear edges are cut off (a long
//!   sloping nose, a short tail), lower at the front than at the back;
//! - the cabin: a trapezoidal prism, narrower at the roof, always set
//!   towards the back; its windows are dark glass, its roof body-coloured;
//! - four wheels: 10-sided cylinders (dark tyres) with a light hub disc on
//!   the outer face, sticking out slightly from the body's sides;
//! - two near-white headlights on the front face and a dark tail-light
//!   strip on the back face;
//! - in about 40 % of cars a rear spoiler (a wing on two posts).
//!
//! The seed draws every proportion (length, width, body and cabin heights,
//! cabin length and position, nose and tail slopes, wheel radius, width and
//! wheelbase) and every albedo from car-like ranges ([`Proportions`]).
//!
//! # The camera and the light
//!
//! The camera sits on a sphere around the centre of the car's bounding box
//! and looks at it, with the world's vertical as its up direction:
//! - azimuth 0 is the canonical view: the camera straight in front of the
//!   car, looking at its front. Positive azimuth moves the camera
//!   counter-clockwise seen from above, that is towards the car's left
//!   side: +90 looks at the left side (the front towards the image's
//!   left), -90 at the right side (the front towards the image's right),
//!   ±180 at the back. Any `i32` is taken modulo 360. The paper's target,
//!   the canonical pose, is azimuth 0, elevation 15.
//! - elevation is the camera's angle above the ground plane: 0 is level,
//!   90 looks straight down (the car's front towards the bottom of the
//!   image, as the limit of looking down from in front), negative values
//!   look from below (at the underside). Values beyond ±90 are clamped to
//!   ±90.
//! - The projection is orthographic, so only the direction of the camera
//!   matters, and the scale is fixed per car (not per pose): the car's
//!   bounding sphere (about the bounding box's centre) fills the image less
//!   a margin of 1 pixel plus 2 %, so no pose ever cuts the car off or
//!   touches the image border. The car's apparent size does depend on its
//!   proportions, as it would for a fixed camera distance.
//!
//! The light is a directional light fixed in the car's frame (as a lamp in
//! the room where the camera moves round a standing car): from the car's
//! left, in front and above ([`LIGHT`]), Lambert-shaded with an ambient
//! term. So the left side is always brighter than the right, the front
//! brighter than the back, and the views at azimuth +a and -a are not
//! mirror images of each other even though the car's shape is symmetric:
//! the image alone tells left from right. Front and back also differ in
//! shape (cabin towards the back, lower sloping nose, lights, spoiler).
//!
//! # The image
//!
//! Z-buffered rasterisation of the triangles with edge functions at sample
//! centres, 2x2 supersampled and averaged into each pixel. The background is
//! exactly 0 (black); every surface is shaded at least [`MIN_SHADE`], so a
//! pixel is non-zero exactly when the car covers any of its samples.
//! Sizes from [`MIN_SIZE`] to [`MAX_SIZE`] pixels square; [`render`] panics
//! with a message outside that range. A car has about 210 triangles; a
//! 64x64 image takes under 0.1 ms.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The smallest image side [`render`] accepts; smaller sizes panic.
pub const MIN_SIZE: usize = 8;
/// The largest image side [`render`] accepts; larger sizes panic.
pub const MAX_SIZE: usize = 4096;
/// The background's gray value.
pub const BACKGROUND: u8 = 0;
/// The darkest gray a lit surface is drawn with (before the 2x2 samples are
/// averaged), so that the car never takes the background's value.
pub const MIN_SHADE: u8 = 16;
/// The direction towards the light in the car's frame (`x` forward, `y`
/// left, `z` up), before normalisation: from the front-left and above.
pub const LIGHT: [f64; 3] = [0.4, 0.75, 0.55];
/// The ambient share of the light.
const AMBIENT: f64 = 0.3;
/// The directional share of the light (ambient + directional > 1 lets a
/// bright surface facing the light saturate to white).
const DIFFUSE: f64 = 0.8;
/// The gray of the headlights, which glow rather than reflect.
const HEADLIGHT: u8 = 250;
/// How far decals (lights, hubs) stand off the face they sit on, in metres,
/// so that the depth test always puts them in front.
const DECAL_OFFSET: f64 = 0.01;
/// The sides of a wheel's cylinder.
const WHEEL_SIDES: usize = 10;

type V3 = [f64; 3];

/// The parameters a car is built from, in metres in the car's frame (`x`
/// forward, `y` left, `z` up, the ground at `z = 0`) and albedos in `0..1`.
#[derive(Clone, Debug, PartialEq)]
pub struct Proportions {
    /// Bumper to bumper.
    pub length: f64,
    /// The body's width (the wheels stick out a little more).
    pub width: f64,
    /// The gap between the ground and the body's underside.
    pub clearance: f64,
    /// The body's height from its underside to its flat top.
    pub body_height: f64,
    /// The height of the body's front face (the nose slopes up from it).
    pub nose_height: f64,
    /// How far the nose slope runs back along the top.
    pub nose_length: f64,
    /// The height of the body's back face.
    pub tail_height: f64,
    /// How far the tail slope runs forward along the top.
    pub tail_length: f64,
    /// The cabin's length at its base.
    pub cabin_length: f64,
    /// The cabin's height above the body.
    pub cabin_height: f64,
    /// The `x` of the cabin's base centre (negative: towards the back).
    pub cabin_offset: f64,
    /// The horizontal run of the windscreen.
    pub windscreen_run: f64,
    /// The horizontal run of the rear window.
    pub rear_window_run: f64,
    /// The roof's width as a share of the cabin's base width.
    pub roof_taper: f64,
    /// The wheels' radius.
    pub wheel_radius: f64,
    /// The wheels' (tyres') width.
    pub wheel_width: f64,
    /// The distance between the front and rear axles.
    pub wheelbase: f64,
    /// The `x` of the midpoint between the axles.
    pub axle_centre: f64,
    /// Whether the car has a rear spoiler.
    pub spoiler: bool,
    /// The spoiler's height above the tail (0 without a spoiler).
    pub spoiler_height: f64,
    /// The albedo of the body, the roof and the spoiler.
    pub body_albedo: f64,
    /// The albedo of the windows.
    pub glass_albedo: f64,
    /// The albedo of the tyres.
    pub tyre_albedo: f64,
    /// The albedo of the hubs.
    pub hub_albedo: f64,
}

impl Proportions {
    /// Draws a car's proportions from the seed.
    fn draw(seed: u64) -> Proportions {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut u = |lo: f64, hi: f64| lo + (hi - lo) * rng.random::<f64>();
        let length = u(3.6, 4.6);
        let width = u(1.65, 1.95);
        let wheel_radius = u(0.28, 0.4);
        let wheel_width = u(0.2, 0.3);
        let clearance = wheel_radius * u(0.4, 0.7);
        let body_height = u(0.5, 0.75);
        let nose_height = body_height * u(0.5, 0.8);
        let nose_length = length * u(0.06, 0.16);
        let tail_height = body_height * u(0.8, 0.97);
        let tail_length = length * u(0.02, 0.06);
        let cabin_length = length * u(0.38, 0.56);
        let cabin_height = u(0.38, 0.56);
        // The cabin's rear edge sits 6..20 % of the length from the back,
        // so its centre is always behind the car's middle.
        let cabin_rear = -length / 2.0 + length * u(0.06, 0.2);
        let cabin_offset = cabin_rear + cabin_length / 2.0;
        let windscreen_run = cabin_length * u(0.2, 0.38);
        let rear_window_run = cabin_length * u(0.08, 0.3);
        let roof_taper = u(0.68, 0.85);
        let front_axle = length / 2.0 - wheel_radius - length * u(0.04, 0.1);
        let rear_axle = -length / 2.0 + wheel_radius + length * u(0.04, 0.1);
        let spoiler = u(0.0, 1.0) < 0.4;
        let spoiler_height = if spoiler { u(0.14, 0.26) } else { 0.0 };
        let body_albedo = u(0.45, 0.95);
        let glass_albedo = u(0.15, 0.3);
        let tyre_albedo = u(0.12, 0.2);
        let hub_albedo = u(0.55, 0.85);
        Proportions {
            length,
            width,
            clearance,
            body_height,
            nose_height,
            nose_length,
            tail_height,
            tail_length,
            cabin_length,
            cabin_height,
            cabin_offset,
            windscreen_run,
            rear_window_run,
            roof_taper,
            wheel_radius,
            wheel_width,
            wheelbase: front_axle - rear_axle,
            axle_centre: (front_axle + rear_axle) / 2.0,
            spoiler,
            spoiler_height,
            body_albedo,
            glass_albedo,
            tyre_albedo,
            hub_albedo,
        }
    }
}

/// One flat-shaded triangle, its vertices relative to the car's centre.
#[derive(Clone, Debug, PartialEq)]
struct Tri {
    v: [V3; 3],
    /// The outward unit normal; triangles facing away from the camera are
    /// skipped.
    normal: V3,
    /// The gray it is drawn with; the light is fixed in the car's frame, so
    /// this does not depend on the pose.
    shade: u8,
}

/// A car built from parts, from a seed: body, cabin, four wheels, lights
/// and maybe a spoiler, as flat-shaded triangles centred on the car's
/// bounding box.
#[derive(Clone, Debug, PartialEq)]
pub struct Car {
    seed: u64,
    proportions: Proportions,
    tris: Vec<Tri>,
    /// The largest distance of a vertex from the centre.
    radius: f64,
}

impl Car {
    /// The car for this seed: the same seed always gives the same car.
    pub fn from_seed(seed: u64) -> Car {
        let p = Proportions::draw(seed);
        let mut m = Mesh::default();
        build(&p, &mut m);
        // Centre the car on its bounding box.
        let mut lo = [f64::INFINITY; 3];
        let mut hi = [f64::NEG_INFINITY; 3];
        for t in &m.tris {
            for v in &t.v {
                for k in 0..3 {
                    lo[k] = lo[k].min(v[k]);
                    hi[k] = hi[k].max(v[k]);
                }
            }
        }
        let centre = [0, 1, 2].map(|k| (lo[k] + hi[k]) / 2.0);
        let mut radius: f64 = 0.0;
        for t in &mut m.tris {
            for v in &mut t.v {
                *v = sub(*v, centre);
                radius = radius.max(dot(*v, *v).sqrt());
            }
        }
        Car { seed, proportions: p, tris: m.tris, radius }
    }

    /// The seed the car was built from.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The proportions and albedos drawn from the seed.
    pub fn proportions(&self) -> &Proportions {
        &self.proportions
    }

    /// The number of triangles in the car's mesh.
    pub fn triangles(&self) -> usize {
        self.tris.len()
    }
}

/// A grayscale image, row-major, 0 = black, 255 = white.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Image {
    pub width: usize,
    pub height: usize,
    /// `width * height` grays, row by row from the top.
    pub pixels: Vec<u8>,
}

impl Image {
    /// The gray at column `x`, row `y` (row 0 at the top).
    pub fn get(&self, x: usize, y: usize) -> u8 {
        self.pixels[y * self.width + x]
    }

    /// The image `k` times larger, each pixel a `k` by `k` block (to look
    /// at a small image as the learner sees it).
    pub fn scaled(&self, k: usize) -> Image {
        let k = k.max(1);
        let (w, h) = (self.width * k, self.height * k);
        let pixels = (0..h).flat_map(|y| (0..w).map(move |x| (x, y))).map(|(x, y)| self.get(x / k, y / k)).collect();
        Image { width: w, height: h, pixels }
    }
}

// ---------------------------------------------------------------------------
// Building the mesh.

#[derive(Default)]
struct Mesh {
    tris: Vec<Tri>,
}

impl Mesh {
    /// A planar convex polygon (in order around it) as a fan of triangles,
    /// its normal pointing away from `inside` (a point inside the part).
    fn face(&mut self, poly: &[V3], inside: V3, albedo: f64) {
        let mut n = newell(poly);
        let len = dot(n, n).sqrt();
        if len == 0.0 {
            return;
        }
        n = scale(n, 1.0 / len);
        if dot(n, sub(mean(poly), inside)) < 0.0 {
            n = scale(n, -1.0);
        }
        self.fan(poly, n, lambert(albedo, n));
    }

    /// A polygon drawn with a given normal and gray.
    fn fan(&mut self, poly: &[V3], normal: V3, shade: u8) {
        for k in 1..poly.len().saturating_sub(1) {
            self.tris.push(Tri { v: [poly[0], poly[k], poly[k + 1]], normal, shade });
        }
    }

    /// A prism: the convex `profile` of `(x, z)` points (in order around
    /// it) extruded along `y` about `y_centre`, with half-width `hw0` at
    /// height `z0` changing linearly to `hw1` at `z1` (so both side faces
    /// are planes). `side` is the albedo of the two side faces, `edge(k)`
    /// that of the face between profile points `k` and `k + 1`.
    fn prism(
        &mut self,
        profile: &[(f64, f64)],
        y_centre: f64,
        (z0, hw0): (f64, f64),
        (z1, hw1): (f64, f64),
        side: f64,
        edge: impl Fn(usize) -> f64,
    ) {
        let n = profile.len();
        let half = |z: f64| if z1 == z0 { hw0 } else { hw0 + (hw1 - hw0) * (z - z0) / (z1 - z0) };
        let left: Vec<V3> = profile.iter().map(|&(x, z)| [x, y_centre + half(z), z]).collect();
        let right: Vec<V3> = profile.iter().map(|&(x, z)| [x, y_centre - half(z), z]).collect();
        let cx = profile.iter().map(|p| p.0).sum::<f64>() / n as f64;
        let cz = profile.iter().map(|p| p.1).sum::<f64>() / n as f64;
        let inside = [cx, y_centre, cz];
        self.face(&left, inside, side);
        self.face(&right, inside, side);
        for k in 0..n {
            let j = (k + 1) % n;
            self.face(&[left[k], left[j], right[j], right[k]], inside, edge(k));
        }
    }

    /// An axis-aligned box.
    fn cuboid(&mut self, lo: V3, hi: V3, albedo: f64) {
        let profile = [(lo[0], lo[2]), (hi[0], lo[2]), (hi[0], hi[2]), (lo[0], hi[2])];
        let hw = (hi[1] - lo[1]) / 2.0;
        self.prism(&profile, (lo[1] + hi[1]) / 2.0, (lo[2], hw), (hi[2], hw), albedo, |_| albedo);
    }
}

/// The car's parts from its proportions.
fn build(p: &Proportions, m: &mut Mesh) {
    let (l, w) = (p.length / 2.0, p.width / 2.0);
    let zb = p.clearance;
    let top = zb + p.body_height;

    // The body: a box with the top front and rear edges cut off.
    let body = [
        (-l, zb),
        (l, zb),
        (l, zb + p.nose_height),
        (l - p.nose_length, top),
        (-l + p.tail_length, top),
        (-l, zb + p.tail_height),
    ];
    m.prism(&body, 0.0, (zb, w), (top, w), p.body_albedo, |_| p.body_albedo);

    // The cabin: base on the body's top, windscreen at the front, roof,
    // rear window; narrower at the roof. Edges: base, windscreen, roof,
    // rear window.
    let (rear, front) = (p.cabin_offset - p.cabin_length / 2.0, p.cabin_offset + p.cabin_length / 2.0);
    let roof = top + p.cabin_height;
    let cabin = [
        (rear, top),
        (front, top),
        (front - p.windscreen_run, roof),
        (rear + p.rear_window_run, roof),
    ];
    let base_hw = w * 0.92;
    m.prism(&cabin, 0.0, (top, base_hw), (roof, base_hw * p.roof_taper), p.glass_albedo, |k| {
        if k == 2 { p.body_albedo } else { p.glass_albedo }
    });

    // The wheels: cylinders along y standing on the ground, their outer
    // faces a little outside the body, a hub disc on each outer face.
    let r = p.wheel_radius;
    let outer = w + 0.03;
    let y_mid = outer - p.wheel_width / 2.0;
    let hw = p.wheel_width / 2.0;
    let ring = |radius: f64| -> Vec<(f64, f64)> {
        (0..WHEEL_SIDES)
            .map(|k| {
                // 36-degree steps from the front: a flat side at the
                // bottom (between 252 and 288 degrees).
                let deg = 36 * k as i32;
                (radius * cos_deg(deg), radius * sin_deg(deg))
            })
            .collect()
    };
    let tyre = ring(r);
    let hub = ring(r * 0.6);
    for x in [p.axle_centre + p.wheelbase / 2.0, p.axle_centre - p.wheelbase / 2.0] {
        for s in [1.0, -1.0] {
            let profile: Vec<(f64, f64)> = tyre.iter().map(|&(dx, dz)| (x + dx, r + dz)).collect();
            m.prism(&profile, s * y_mid, (0.0, hw), (2.0 * r, hw), p.tyre_albedo, |_| p.tyre_albedo);
            let y = s * (outer + DECAL_OFFSET);
            let disc: Vec<V3> = hub.iter().map(|&(dx, dz)| [x + dx, y, r + dz]).collect();
            let normal = [0.0, s, 0.0];
            m.fan(&disc, normal, lambert(p.hub_albedo, normal));
        }
    }

    // The lights: two glowing headlights high on the front face, a dark
    // tail-light strip across most of the back face.
    let (hz0, hz1) = (zb + p.nose_height * 0.5, zb + p.nose_height * 0.85);
    let (hy0, hy1) = (w * 0.45, w * 0.85);
    for s in [1.0, -1.0] {
        let x = l + DECAL_OFFSET;
        let quad = [[x, s * hy0, hz0], [x, s * hy1, hz0], [x, s * hy1, hz1], [x, s * hy0, hz1]];
        m.fan(&quad, [1.0, 0.0, 0.0], HEADLIGHT);
    }
    let (tz0, tz1) = (zb + p.tail_height * 0.55, zb + p.tail_height * 0.8);
    let x = -l - DECAL_OFFSET;
    let strip = [[x, -w * 0.85, tz0], [x, w * 0.85, tz0], [x, w * 0.85, tz1], [x, -w * 0.85, tz1]];
    let back = [-1.0, 0.0, 0.0];
    m.fan(&strip, back, lambert(0.08, back));

    // The spoiler: a wing on two posts over the tail.
    if p.spoiler {
        let tail = zb + p.tail_height;
        let (x0, x1) = (-l + 0.02, -l + 0.02 + (p.tail_length + 0.18).min(0.35));
        let (z0, z1) = (tail + p.spoiler_height, tail + p.spoiler_height + 0.05);
        m.cuboid([x0, -w * 0.92, z0], [x1, w * 0.92, z1], p.body_albedo);
        let xm = (x0 + x1) / 2.0;
        for s in [1.0, -1.0] {
            let y = s * w * 0.6;
            m.cuboid([xm - 0.04, y - 0.04, tail - 0.05], [xm + 0.04, y + 0.04, z0], p.body_albedo);
        }
    }
}

/// The gray of a surface with this albedo and outward unit normal.
fn lambert(albedo: f64, normal: V3) -> u8 {
    let l = LIGHT;
    let l = scale(l, 1.0 / dot(l, l).sqrt());
    let light = AMBIENT + DIFFUSE * dot(normal, l).max(0.0);
    let gray = (albedo * light * 255.0).clamp(MIN_SHADE as f64, 255.0);
    (gray + 0.5) as u8
}

// ---------------------------------------------------------------------------
// Rendering.

/// The car seen by an orthographic camera on a sphere around its centre,
/// looking at the centre with the world's vertical as up, as a `size` x
/// `size` grayscale image.
///
/// - `azimuth` in degrees: 0 views the car's front (the canonical view);
///   positive moves the camera towards the car's left side (+90 sees the
///   left side, -90 the right side, ±180 the back). Taken modulo 360.
/// - `elevation` in degrees above the ground plane: 0 level, 90 straight
///   down, negative from below. Clamped to `-90..=90`.
/// - `size` in pixels, from [`MIN_SIZE`] to [`MAX_SIZE`]; panics outside.
///
/// The car keeps the same scale at every pose (its bounding sphere fills
/// the image less a margin), so it is never cut off and never touches the
/// image border. See the module docs for the light.
pub fn render(car: &Car, azimuth: i32, elevation: i32, size: usize) -> Image {
    assert!(
        (MIN_SIZE..=MAX_SIZE).contains(&size),
        "car_render::render: image size {size} is outside {MIN_SIZE}..={MAX_SIZE}"
    );
    let elevation = elevation.clamp(-90, 90);
    let (sa, ca) = (sin_deg(azimuth), cos_deg(azimuth));
    let (se, ce) = (sin_deg(elevation), cos_deg(elevation));
    // Towards the camera from the centre, the image's right and up.
    let eye = [ce * ca, ce * sa, se];
    let right = [-sa, ca, 0.0];
    let up = [-ca * se, -sa * se, ce];

    // Samples: 2x2 per pixel. The bounding sphere's radius maps to half the
    // image less a margin of 1 pixel plus 2 %, so no sample in the outer
    // ring of pixels is ever covered.
    let n = 2 * size;
    let radius_px = 0.98 * size as f64 / 2.0 - 1.0;
    let k = 2.0 * radius_px / car.radius;
    let half = size as f64; // the image centre in samples
    let mut depth = vec![f64::INFINITY; n * n];
    let mut gray = vec![BACKGROUND; n * n];

    for t in &car.tris {
        // Skip faces turned away from the camera (the parts are closed and
        // convex, the decals one-sided).
        if dot(t.normal, eye) <= 0.0 {
            continue;
        }
        let project = |v: V3| -> (f64, f64, f64) {
            (half + k * dot(v, right), half - k * dot(v, up), -dot(v, eye))
        };
        let a = project(t.v[0]);
        let mut b = project(t.v[1]);
        let mut c = project(t.v[2]);
        let mut area = edge((a.0, a.1), (b.0, b.1), c.0, c.1);
        if area == 0.0 {
            continue;
        }
        if area < 0.0 {
            std::mem::swap(&mut b, &mut c);
            area = -area;
        }
        let e0 = Edge::new((b.0, b.1), (c.0, c.1));
        let e1 = Edge::new((c.0, c.1), (a.0, a.1));
        let e2 = Edge::new((a.0, a.1), (b.0, b.1));
        // The samples whose centres (i + 0.5, j + 0.5) fall in the bounding
        // box; the clamp also keeps a car too large for its frame (which
        // the scale above rules out) from writing outside the buffer.
        let lo_x = a.0.min(b.0).min(c.0);
        let hi_x = a.0.max(b.0).max(c.0);
        let lo_y = a.1.min(b.1).min(c.1);
        let hi_y = a.1.max(b.1).max(c.1);
        let first = |lo: f64| ((lo - 0.5).ceil().max(0.0) as usize).min(n);
        let last = |hi: f64| ((hi - 0.5).floor().min(n as f64 - 1.0).max(-1.0) + 1.0) as usize;
        let (i0, i1) = (first(lo_x), last(hi_x));
        let (j0, j1) = (first(lo_y), last(hi_y));
        for j in j0..j1 {
            let y = j as f64 + 0.5;
            let row = j * n;
            for i in i0..i1 {
                let x = i as f64 + 0.5;
                let w0 = e0.at(x, y);
                let w1 = e1.at(x, y);
                let w2 = e2.at(x, y);
                if w0 < 0.0 || w1 < 0.0 || w2 < 0.0 {
                    continue;
                }
                let z = (w0 * a.2 + w1 * b.2 + w2 * c.2) / area;
                if z < depth[row + i] {
                    depth[row + i] = z;
                    gray[row + i] = t.shade;
                }
            }
        }
    }

    let mut pixels = Vec::with_capacity(size * size);
    for y in 0..size {
        let (r0, r1) = (2 * y * n, (2 * y + 1) * n);
        for x in 0..size {
            let s = gray[r0 + 2 * x] as u32
                + gray[r0 + 2 * x + 1] as u32
                + gray[r1 + 2 * x] as u32
                + gray[r1 + 2 * x + 1] as u32;
            pixels.push(((s + 2) / 4) as u8);
        }
    }
    Image { width: size, height: size, pixels }
}

/// The edge function of `a -> b` at `(x, y)`: positive on one side, zero on
/// the line.
fn edge(a: (f64, f64), b: (f64, f64), x: f64, y: f64) -> f64 {
    (b.0 - a.0) * (y - a.1) - (b.1 - a.1) * (x - a.0)
}

/// An edge of a triangle being drawn, evaluated from its endpoints in a
/// fixed order whichever triangle it belongs to, so that two triangles
/// sharing the edge get exactly opposite values at every sample: with the
/// inclusive test no sample on a shared edge falls through both.
struct Edge {
    a: (f64, f64),
    b: (f64, f64),
    sign: f64,
}

impl Edge {
    fn new(a: (f64, f64), b: (f64, f64)) -> Edge {
        if a <= b { Edge { a, b, sign: 1.0 } } else { Edge { a: b, b: a, sign: -1.0 } }
    }

    fn at(&self, x: f64, y: f64) -> f64 {
        self.sign * edge(self.a, self.b, x, y)
    }
}

// ---------------------------------------------------------------------------
// PNG.

/// The image as a PNG file: 8-bit grayscale, not interlaced, every row with
/// filter 0, the zlib stream in stored (uncompressed) blocks. Panics if the
/// image is empty or `pixels` does not hold `width * height` grays.
pub fn png(image: &Image) -> Vec<u8> {
    let (w, h) = (image.width, image.height);
    assert!(w > 0 && h > 0, "car_render::png: an empty image ({w}x{h}) has no PNG");
    assert!(
        w <= 0x7fff_ffff && h <= 0x7fff_ffff,
        "car_render::png: {w}x{h} is larger than PNG allows"
    );
    assert_eq!(image.pixels.len(), w * h, "car_render::png: pixels do not match {w}x{h}");

    let mut raw = Vec::with_capacity((w + 1) * h);
    for row in image.pixels.chunks(w) {
        raw.push(0); // filter: none
        raw.extend_from_slice(row);
    }
    let mut zlib = Vec::with_capacity(raw.len() + raw.len() / 65535 * 5 + 11);
    zlib.extend_from_slice(&[0x78, 0x01]); // deflate, 32K window, no dictionary
    let mut blocks = raw.chunks(65535).peekable();
    loop {
        let block = blocks.next().unwrap_or(&[]);
        let last = blocks.peek().is_none();
        let len = block.len() as u16;
        zlib.push(last as u8); // BFINAL, BTYPE 00 (stored)
        zlib.extend_from_slice(&len.to_le_bytes());
        zlib.extend_from_slice(&(!len).to_le_bytes());
        zlib.extend_from_slice(block);
        if last {
            break;
        }
    }
    zlib.extend_from_slice(&adler32(&raw).to_be_bytes());

    let mut out = Vec::with_capacity(zlib.len() + 64);
    out.extend_from_slice(&[0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a]);
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&(w as u32).to_be_bytes());
    ihdr.extend_from_slice(&(h as u32).to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]); // 8 bits, grayscale, deflate, filter 0, no interlace
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", &zlib);
    chunk(&mut out, b"IEND", &[]);
    out
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let start = out.len();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32(&out[start..]);
    out.extend_from_slice(&crc.to_be_bytes());
}

/// The CRC-32 (ISO 3309, as PNG uses it) table.
const CRC_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut n = 0;
    while n < 256 {
        let mut c = n as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 { 0xedb8_8320 ^ (c >> 1) } else { c >> 1 };
            k += 1;
        }
        table[n] = c;
        n += 1;
    }
    table
};

fn crc32(bytes: &[u8]) -> u32 {
    let mut c = 0xffff_ffffu32;
    for &b in bytes {
        c = CRC_TABLE[((c ^ b as u32) & 0xff) as usize] ^ (c >> 8);
    }
    c ^ 0xffff_ffff
}

fn adler32(bytes: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    // 5552 bytes is the most that can be summed before `b` could overflow.
    for block in bytes.chunks(5552) {
        for &x in block {
            a += x as u32;
            b += a;
        }
        a %= 65521;
        b %= 65521;
    }
    (b << 16) | a
}

// ---------------------------------------------------------------------------
// Small vector helpers and exact-as-possible trigonometry.

fn sub(a: V3, b: V3) -> V3 {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

fn dot(a: V3, b: V3) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

fn scale(a: V3, s: f64) -> V3 {
    [a[0] * s, a[1] * s, a[2] * s]
}

fn mean(poly: &[V3]) -> V3 {
    let mut m = [0.0; 3];
    for v in poly {
        m = [m[0] + v[0], m[1] + v[1], m[2] + v[2]];
    }
    scale(m, 1.0 / poly.len() as f64)
}

/// A polygon's normal by Newell's method (length twice its area).
fn newell(poly: &[V3]) -> V3 {
    let mut n = [0.0; 3];
    for k in 0..poly.len() {
        let (a, b) = (poly[k], poly[(k + 1) % poly.len()]);
        n[0] += (a[1] - b[1]) * (a[2] + b[2]);
        n[1] += (a[2] - b[2]) * (a[0] + b[0]);
        n[2] += (a[0] - b[0]) * (a[1] + b[1]);
    }
    n
}

/// The sine of a whole number of degrees, from [`SIN_DEG`]: the same bits
/// on every platform, exact at 0, 30, 90 and so on.
fn sin_deg(degrees: i32) -> f64 {
    let d = degrees.rem_euclid(360) as usize;
    match d {
        0..=90 => SIN_DEG[d],
        91..=180 => SIN_DEG[180 - d],
        181..=270 => -SIN_DEG[d - 180],
        _ => -SIN_DEG[360 - d],
    }
}

/// The cosine of a whole number of degrees, from [`SIN_DEG`].
fn cos_deg(degrees: i32) -> f64 {
    sin_deg((degrees.rem_euclid(360) + 90) % 360)
}

/// `sin(d°)` for `d` in `0..=90`, each the f64 nearest the true value
/// (computed to 50 digits with mpmath).
#[rustfmt::skip]
const SIN_DEG: [f64; 91] = [
    0.0, 0.01745240643728351, 0.03489949670250097, 0.052335956242943835,
    0.0697564737441253, 0.08715574274765818, 0.10452846326765347, 0.12186934340514748,
    0.13917310096006544, 0.15643446504023087, 0.17364817766693036, 0.1908089953765448,
    0.20791169081775934, 0.224951054343865, 0.24192189559966773, 0.25881904510252074,
    0.27563735581699916, 0.2923717047227367, 0.30901699437494745, 0.32556815445715664,
    0.3420201433256687, 0.35836794954530027, 0.374606593415912, 0.39073112848927377,
    0.4067366430758002, 0.42261826174069944, 0.4383711467890774, 0.4539904997395468,
    0.46947156278589075, 0.484809620246337, 0.5, 0.5150380749100542,
    0.5299192642332049, 0.5446390350150271, 0.5591929034707468, 0.573576436351046,
    0.5877852522924731, 0.6018150231520483, 0.6156614753256583, 0.6293203910498375,
    0.6427876096865394, 0.6560590289905073, 0.6691306063588582, 0.6819983600624985,
    0.6946583704589973, std::f64::consts::FRAC_1_SQRT_2, 0.7193398003386512, 0.7313537016191705,
    0.7431448254773942, 0.754709580222772, 0.766044443118978, 0.7771459614569709,
    0.7880107536067219, 0.7986355100472928, 0.8090169943749475, 0.8191520442889918,
    0.8290375725550417, 0.838670567945424, 0.848048096156426, 0.8571673007021123,
    0.8660254037844386, 0.8746197071393959, 0.882947592858927, 0.8910065241883679,
    0.898794046299167, 0.9063077870366499, 0.9135454576426009, 0.9205048534524404,
    0.9271838545667874, 0.9335804264972017, 0.9396926207859084, 0.9455185755993168,
    0.9510565162951535, 0.9563047559630354, 0.9612616959383189, 0.9659258262890683,
    0.9702957262759965, 0.9743700647852352, 0.9781476007338057, 0.981627183447664,
    0.984807753012208, 0.9876883405951378, 0.9902680687415704, 0.992546151641322,
    0.9945218953682733, 0.9961946980917455, 0.9975640502598242, 0.9986295347545738,
    0.9993908270190958, 0.9998476951563913, 1.0,
];

#[cfg(test)]
mod tests {
    use super::*;

    /// The poses the paper starts from: azimuth -75..=75, elevation 0..=60.
    fn paper_poses() -> impl Iterator<Item = (i32, i32)> {
        (-75..=75).step_by(15).flat_map(|a| (0..=60).step_by(15).map(move |e| (a, e)))
    }

    fn coverage(image: &Image) -> f64 {
        image.pixels.iter().filter(|&&p| p != BACKGROUND).count() as f64 / image.pixels.len() as f64
    }

    fn touches_border(image: &Image) -> bool {
        let (w, h) = (image.width, image.height);
        (0..w).any(|x| image.get(x, 0) != BACKGROUND || image.get(x, h - 1) != BACKGROUND)
            || (0..h).any(|y| image.get(0, y) != BACKGROUND || image.get(w - 1, y) != BACKGROUND)
    }

    fn mirrored(image: &Image) -> Image {
        let mut out = image.clone();
        for y in 0..image.height {
            for x in 0..image.width {
                out.pixels[y * image.width + x] = image.get(image.width - 1 - x, y);
            }
        }
        out
    }

    /// The mean absolute gray difference over the pixels where either
    /// image shows the car.
    fn difference(a: &Image, b: &Image) -> f64 {
        let (mut sum, mut count) = (0.0, 0);
        for (&p, &q) in a.pixels.iter().zip(&b.pixels) {
            if p != BACKGROUND || q != BACKGROUND {
                sum += (p as f64 - q as f64).abs();
                count += 1;
            }
        }
        sum / count.max(1) as f64
    }

    #[test]
    fn render_is_deterministic() {
        for seed in [0, 1, 42, u64::MAX] {
            let car = Car::from_seed(seed);
            assert_eq!(car, Car::from_seed(seed));
            for (a, e) in [(0, 15), (-75, 60), (30, 0), (180, -45)] {
                for size in [8, 32, 64] {
                    let image = render(&car, a, e, size);
                    assert_eq!(image, render(&car, a, e, size));
                    assert_eq!(image, render(&Car::from_seed(seed), a, e, size));
                    assert_eq!(png(&image), png(&render(&car, a, e, size)));
                }
            }
        }
    }

    #[test]
    fn render_pinned_bytes() {
        // A fingerprint of a few images, so that a change to the renderer
        // or to the cars drawn from a seed is noticed (the task's seen and
        // unseen cars are seed sets).
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for seed in [0, 1, 2] {
            let car = Car::from_seed(seed);
            for (a, e) in [(0, 15), (-45, 30), (90, 0)] {
                for &p in &render(&car, a, e, 32).pixels {
                    h = (h ^ p as u64).wrapping_mul(0x100_0000_01b3);
                }
            }
        }
        assert_eq!(h, PINNED_FINGERPRINT, "images changed: fingerprint now {h:#x}");
    }

    const PINNED_FINGERPRINT: u64 = 0x2004_f10a_6a27_238b;

    #[test]
    fn render_different_seeds_differ() {
        let cars: Vec<Car> = (0..24).map(Car::from_seed).collect();
        for (i, a) in cars.iter().enumerate() {
            for b in &cars[i + 1..] {
                assert_ne!(a.proportions(), b.proportions());
                let (pa, pb) = (a.proportions(), b.proportions());
                assert_ne!(pa.length, pb.length);
                assert_ne!(pa.body_albedo, pb.body_albedo);
                let (ia, ib) = (render(a, 0, 15, 32), render(b, 0, 15, 32));
                assert_ne!(ia, ib, "seeds {} and {} look the same", a.seed(), b.seed());
            }
        }
        // Visibly different, not a few pixels: over many pairs the side
        // view's silhouette and shading differ clearly on average.
        let mut total = 0.0;
        for pair in cars.windows(2) {
            total += difference(&render(&pair[0], 90, 15, 64), &render(&pair[1], 90, 15, 64));
        }
        let mean = total / (cars.len() - 1) as f64;
        assert!(mean > 15.0, "neighbouring seeds differ by only {mean:.1} grays");
        // Both with and without a spoiler occur.
        assert!(cars.iter().any(|c| c.proportions().spoiler));
        assert!(cars.iter().any(|c| !c.proportions().spoiler));
    }

    #[test]
    fn render_proportions_are_car_like() {
        for seed in 0..500 {
            let p = Car::from_seed(seed).proportions().clone();
            assert!((3.6..4.6).contains(&p.length) && (1.65..1.95).contains(&p.width));
            // The cabin sits towards the back and on the body.
            assert!(p.cabin_offset < -0.05, "seed {seed}: cabin at {}", p.cabin_offset);
            assert!(p.cabin_offset - p.cabin_length / 2.0 > -p.length / 2.0);
            assert!(p.cabin_offset + p.cabin_length / 2.0 < p.length / 2.0 - p.nose_length);
            // The nose is lower than the tail, and the wheels fit under
            // the body, front and back.
            assert!(p.nose_height < p.tail_height);
            let front_axle = p.axle_centre + p.wheelbase / 2.0;
            let rear_axle = p.axle_centre - p.wheelbase / 2.0;
            assert!(front_axle + p.wheel_radius < p.length / 2.0);
            assert!(rear_axle - p.wheel_radius > -p.length / 2.0);
            assert!(p.wheelbase > p.length * 0.5);
            assert!(p.clearance < p.wheel_radius);
        }
    }

    #[test]
    fn render_paper_poses_fit_in_frame() {
        let mut least: f64 = 1.0;
        let mut most: f64 = 0.0;
        for seed in 0..12 {
            let car = Car::from_seed(seed);
            for (a, e) in paper_poses() {
                for size in [32, 64] {
                    let image = render(&car, a, e, size);
                    let c = coverage(&image);
                    least = least.min(c);
                    most = most.max(c);
                    // The head-on level view is the smallest: a car's front
                    // is about a tenth of the square that holds it at every
                    // pose.
                    let least_allowed = if (a, e) == (0, 0) { 0.06 } else { 0.1 };
                    assert!(
                        (least_allowed..=0.7).contains(&c),
                        "seed {seed}, azimuth {a}, elevation {e}, size {size}: coverage {c:.3}"
                    );
                    assert!(!touches_border(&image), "seed {seed}, azimuth {a}, elevation {e}, size {size}");
                }
            }
        }
        assert!(least < 0.2 && most > 0.25, "coverage {least:.3}..{most:.3}");
    }

    #[test]
    fn render_every_pose_fits_in_frame() {
        // Beyond the paper's poses: the whole sphere, in 15-degree steps,
        // at the smallest size too; the car is always in view and never at
        // the border.
        for seed in [3, 17] {
            let car = Car::from_seed(seed);
            for a in (-180..=180).step_by(15) {
                for e in (-90..=90).step_by(15) {
                    for size in [MIN_SIZE, 32] {
                        let image = render(&car, a, e, size);
                        assert!(coverage(&image) > 0.05, "seed {seed}, azimuth {a}, elevation {e}, size {size}");
                        assert!(!touches_border(&image), "seed {seed}, azimuth {a}, elevation {e}, size {size}");
                    }
                }
            }
        }
    }

    #[test]
    fn render_rotation_changes_the_image() {
        for seed in [0, 5] {
            let car = Car::from_seed(seed);
            for a in (-180..180).step_by(15) {
                for e in (-90..=90).step_by(15) {
                    let here = render(&car, a, e, 32);
                    if e.abs() != 90 {
                        // From straight above or below, turning about the
                        // vertical still rotates the image.
                        assert_ne!(here, render(&car, a + 15, e, 32), "seed {seed}, azimuth {a}, elevation {e}");
                    }
                    if e < 90 {
                        assert_ne!(here, render(&car, a, e + 15, 32), "seed {seed}, azimuth {a}, elevation {e}");
                    }
                }
            }
        }
    }

    #[test]
    fn render_azimuth_wraps_and_elevation_clamps() {
        let car = Car::from_seed(9);
        for a in (-180..=180).step_by(15) {
            let image = render(&car, a, 15, 32);
            assert_eq!(image, render(&car, a + 360, 15, 32));
            assert_eq!(image, render(&car, a - 360, 15, 32));
            assert_eq!(image, render(&car, a + 360 * 1000, 15, 32));
        }
        assert_eq!(render(&car, 180, 0, 32), render(&car, -180, 0, 32));
        assert_eq!(render(&car, 30, 90, 32), render(&car, 30, 135, 32));
        assert_eq!(render(&car, 30, -90, 32), render(&car, 30, i32::MIN, 32));
        // No pose panics.
        for a in [i32::MIN, i32::MIN + 1, -1, 1, 7, i32::MAX - 1, i32::MAX] {
            for e in [i32::MIN, -91, -90, -1, 0, 7, 89, 90, 91, i32::MAX] {
                let image = render(&car, a, e, 16);
                assert!(coverage(&image) > 0.0 && !touches_border(&image));
            }
        }
        // i32::MAX is 127 (mod 360) degrees, i32::MIN is 232.
        assert_eq!(render(&car, i32::MAX, 10, 24), render(&car, 127, 10, 24));
        assert_eq!(render(&car, i32::MIN, 10, 24), render(&car, 232, 10, 24));
    }

    #[test]
    fn render_sizes() {
        let car = Car::from_seed(4);
        for size in [MIN_SIZE, 9, 13, 32, 64, 100, 255, 256] {
            let image = render(&car, -30, 30, size);
            assert_eq!((image.width, image.height, image.pixels.len()), (size, size, size * size));
            assert!(!touches_border(&image), "size {size}");
        }
        let small = std::panic::catch_unwind(|| render(&Car::from_seed(4), 0, 15, MIN_SIZE - 1));
        assert!(small.is_err());
    }

    /// The share of the pixels showing the car in either image that differ
    /// by at least 24 grays.
    fn clearly_different(a: &Image, b: &Image) -> f64 {
        let (mut differ, mut count) = (0, 0);
        for (&p, &q) in a.pixels.iter().zip(&b.pixels) {
            if p != BACKGROUND || q != BACKGROUND {
                differ += ((p as i32 - q as i32).abs() >= 24) as usize;
                count += 1;
            }
        }
        differ as f64 / count.max(1) as f64
    }

    #[test]
    fn render_left_and_right_differ() {
        // The car is symmetric, but the light comes from its left: the
        // view from azimuth a is not the mirror image of the view from -a.
        // The difference is in the sides (and the slanted cabin sides), so
        // it is smallest near head-on and from high up, where little side
        // shows; even there a few percent of the car's pixels differ
        // clearly.
        for seed in 0..12 {
            let car = Car::from_seed(seed);
            for (a, e) in paper_poses().filter(|&(a, _)| a > 0).chain([(90, 0), (135, 15), (165, 30)]) {
                for size in [32, 64] {
                    let left = render(&car, a, e, size);
                    let right = mirrored(&render(&car, -a, e, size));
                    let share = clearly_different(&left, &right);
                    assert!(share > 0.04, "seed {seed}, azimuth ±{a}, elevation {e}, size {size}: {share:.3}");
                }
            }
            let d = difference(&render(&car, 45, 15, 64), &mirrored(&render(&car, -45, 15, 64)));
            assert!(d > 15.0, "seed {seed}, azimuth ±45, elevation 15: differ by {d:.1} grays");
        }
        // The left side is lit, the right side in shadow.
        for seed in 0..12 {
            let car = Car::from_seed(seed);
            let mean = |image: &Image| {
                let lit: Vec<f64> = image.pixels.iter().filter(|&&p| p != 0).map(|&p| p as f64).collect();
                lit.iter().sum::<f64>() / lit.len() as f64
            };
            assert!(mean(&render(&car, 90, 0, 64)) > mean(&render(&car, -90, 0, 64)) + 25.0);
        }
    }

    #[test]
    fn render_front_and_back_differ() {
        for seed in 0..12 {
            let car = Car::from_seed(seed);
            for e in [0, 15, 30, 60] {
                let front = render(&car, 0, e, 64);
                let back = render(&car, 180, e, 64);
                assert!(difference(&front, &back) > 20.0, "seed {seed}, elevation {e}");
                assert!(difference(&front, &mirrored(&back)) > 20.0, "seed {seed}, elevation {e}");
            }
            // From the side the silhouette is not symmetric front to back
            // (the cabin is towards the back, the nose slopes).
            let side = render(&car, 90, 0, 64);
            let mask = |image: &Image| image.pixels.iter().map(|&p| p != 0).collect::<Vec<_>>();
            assert_ne!(mask(&side), mask(&mirrored(&side)), "seed {seed}");
        }
    }

    #[test]
    fn render_trigonometry_table() {
        for d in -720..=720 {
            let (s, c) = (sin_deg(d), cos_deg(d));
            assert!((s * s + c * c - 1.0).abs() < 1e-15, "{d}");
            assert_eq!(s, sin_deg(d + 360));
            assert_eq!(sin_deg(-d), -s);
            assert_eq!(cos_deg(-d), c);
        }
        assert_eq!((sin_deg(30), sin_deg(90), sin_deg(180), sin_deg(270)), (0.5, 1.0, 0.0, -1.0));
        assert_eq!((cos_deg(0), cos_deg(60), cos_deg(90), cos_deg(180)), (1.0, 0.5, 0.0, -1.0));
        assert!(SIN_DEG.windows(2).all(|w| w[0] < w[1]));
    }

    // --- PNG, checked by an independent reader written here. ---

    /// CRC-32 bit by bit (no table).
    fn crc_slow(bytes: &[u8]) -> u32 {
        let mut c = !0u32;
        for &b in bytes {
            c ^= b as u32;
            for _ in 0..8 {
                c = if c & 1 == 1 { (c >> 1) ^ 0xedb8_8320 } else { c >> 1 };
            }
        }
        !c
    }

    /// Adler-32 with a modulo per byte.
    fn adler_slow(bytes: &[u8]) -> u32 {
        let (mut a, mut b) = (1u64, 0u64);
        for &x in bytes {
            a = (a + x as u64) % 65521;
            b = (b + a) % 65521;
        }
        (b << 16 | a) as u32
    }

    /// Reads an 8-bit grayscale PNG with stored zlib blocks and filter 0,
    /// checking every CRC, the zlib header, the block lengths and the
    /// Adler-32.
    fn decode(file: &[u8]) -> Image {
        assert_eq!(&file[..8], &[137, 80, 78, 71, 13, 10, 26, 10], "signature");
        let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
        let mut at = 8;
        let mut chunks: Vec<([u8; 4], &[u8])> = Vec::new();
        while at < file.len() {
            let len = be(&file[at..]) as usize;
            let kind: [u8; 4] = file[at + 4..at + 8].try_into().unwrap();
            let data = &file[at + 8..at + 8 + len];
            let crc = be(&file[at + 8 + len..]);
            assert_eq!(crc, crc_slow(&file[at + 4..at + 8 + len]), "CRC of {:?}", kind);
            chunks.push((kind, data));
            at += 12 + len;
        }
        assert_eq!(at, file.len());
        assert_eq!(&chunks[0].0, b"IHDR");
        assert_eq!(&chunks.last().unwrap().0, b"IEND");
        assert!(chunks.last().unwrap().1.is_empty());
        let ihdr = chunks[0].1;
        assert_eq!(ihdr.len(), 13);
        let (w, h) = (be(&ihdr[0..]) as usize, be(&ihdr[4..]) as usize);
        assert_eq!(&ihdr[8..], &[8, 0, 0, 0, 0], "8-bit gray, deflate, filter 0, no interlace");
        let zlib: Vec<u8> = chunks.iter().filter(|c| &c.0 == b"IDAT").flat_map(|c| c.1.iter().copied()).collect();
        assert_eq!(zlib[0] & 0x0f, 8, "deflate");
        assert_eq!((zlib[0] as u32 * 256 + zlib[1] as u32) % 31, 0, "zlib header check");
        assert_eq!(zlib[1] & 0x20, 0, "no dictionary");
        let mut raw = Vec::new();
        let mut at = 2;
        loop {
            let header = zlib[at];
            assert_eq!(header & 0b110, 0, "stored block");
            let len = u16::from_le_bytes([zlib[at + 1], zlib[at + 2]]);
            let nlen = u16::from_le_bytes([zlib[at + 3], zlib[at + 4]]);
            assert_eq!(len, !nlen);
            raw.extend_from_slice(&zlib[at + 5..at + 5 + len as usize]);
            at += 5 + len as usize;
            if header & 1 == 1 {
                break;
            }
        }
        assert_eq!(be(&zlib[at..]), adler_slow(&raw), "Adler-32");
        assert_eq!(at + 4, zlib.len());
        assert_eq!(raw.len(), (w + 1) * h);
        let mut pixels = Vec::new();
        for row in raw.chunks(w + 1) {
            assert_eq!(row[0], 0, "filter none");
            pixels.extend_from_slice(&row[1..]);
        }
        Image { width: w, height: h, pixels }
    }

    #[test]
    fn render_png_round_trips() {
        let car = Car::from_seed(11);
        for size in [MIN_SIZE, 33, 64, 256] {
            let image = render(&car, 30, 15, size);
            let file = png(&image);
            assert_eq!(decode(&file), image);
        }
        // Several stored blocks (more than 65535 bytes of rows), odd
        // shapes, every gray.
        for (w, h) in [(1, 1), (300, 300), (257, 3), (3, 257)] {
            let pixels = (0..w * h).map(|k| (k * 7 % 256) as u8).collect();
            let image = Image { width: w, height: h, pixels };
            assert_eq!(decode(&png(&image)), image);
        }
        // Known values: CRC-32 of "IEND" and of "123456789", Adler-32 of
        // "Wikipedia".
        assert_eq!(crc32(b"IEND"), 0xae42_6082);
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
        assert_eq!(adler32(b"Wikipedia"), 0x11e6_0398);
        let big: Vec<u8> = (0..100_000u32).map(|k| (k % 251) as u8 ^ 0xff).collect();
        assert_eq!(adler32(&big), adler_slow(&big));
        assert_eq!(crc32(&big), crc_slow(&big));
    }

    /// Writes sample images to `$TMPDIR/cars/` for a person to look at and
    /// prints the time of one 64x64 render:
    /// `cargo test -p synth-compiler --release car_render::tests::write_samples -- --ignored --nocapture`
    #[test]
    #[ignore]
    fn write_samples() {
        let dir = std::env::temp_dir().join("cars");
        std::fs::create_dir_all(&dir).unwrap();
        // A contact sheet per car: azimuth -180..=180 across, elevation
        // -30..=90 down, 64 pixels each with a 2-pixel gray gap.
        let sheet = |car: &Car, poses: &[(i32, i32)], columns: usize, size: usize| -> Image {
            let rows = poses.len().div_ceil(columns);
            let (w, h) = (columns * (size + 2), rows * (size + 2));
            let mut out = Image { width: w, height: h, pixels: vec![90; w * h] };
            for (k, &(a, e)) in poses.iter().enumerate() {
                let image = render(car, a, e, size);
                let (x0, y0) = ((k % columns) * (size + 2) + 1, (k / columns) * (size + 2) + 1);
                for y in 0..size {
                    for x in 0..size {
                        out.pixels[(y0 + y) * w + x0 + x] = image.get(x, y);
                    }
                }
            }
            out
        };
        let all: Vec<(i32, i32)> =
            (-30..=90).step_by(15).flat_map(|e| (-180..=180).step_by(15).map(move |a| (a, e))).collect();
        for seed in [0, 1, 2, 5] {
            let car = Car::from_seed(seed);
            std::fs::write(dir.join(format!("poses_seed{seed}.png")), png(&sheet(&car, &all, 25, 64))).unwrap();
            for (a, e) in [(0, 15), (-45, 30), (90, 0), (45, 15), (150, 20)] {
                let name = format!("seed{seed}_az{a}_el{e}_128.png");
                std::fs::write(dir.join(name), png(&render(&car, a, e, 128))).unwrap();
            }
        }
        // Many cars at the canonical pose and at (-45, 30), 64 pixels and 32.
        for (size, name) in [(64, "seeds_64.png"), (32, "seeds_32.png")] {
            let mut tiles = Image { width: 8 * (size + 2), height: 8 * (size + 2), pixels: vec![] };
            tiles.pixels = vec![90; tiles.width * tiles.height];
            for k in 0..64 {
                let car = Car::from_seed(100 + k as u64 / 2);
                let (a, e) = if k % 2 == 0 { (0, 15) } else { (-45, 30) };
                let image = render(&car, a, e, size);
                let (x0, y0) = ((k % 8) * (size + 2) + 1, (k / 8) * (size + 2) + 1);
                for y in 0..size {
                    for x in 0..size {
                        tiles.pixels[(y0 + y) * tiles.width + x0 + x] = image.get(x, y);
                    }
                }
            }
            std::fs::write(dir.join(name), png(&tiles)).unwrap();
        }
        // Timing of one 64x64 render (and one car build).
        let car = Car::from_seed(0);
        let mut checksum = 0u64;
        let poses: Vec<(i32, i32)> = paper_poses().collect();
        let reps = 4000;
        let start = std::time::Instant::now();
        for k in 0..reps {
            let (a, e) = poses[k % poses.len()];
            checksum += render(&car, a, e, 64).pixels[2080] as u64;
        }
        let per_render = start.elapsed() / reps as u32;
        let start = std::time::Instant::now();
        for seed in 0..1000 {
            checksum += Car::from_seed(seed).triangles() as u64;
        }
        let per_car = start.elapsed() / 1000;
        println!("64x64 render: {per_render:?}; Car::from_seed: {per_car:?}; {} triangles ({checksum})", car.triangles());
        println!("wrote {}", dir.display());
    }
}
