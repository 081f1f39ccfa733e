//! Pose worlds (the NPI paper's car canonicalisation): the stdlib task's
//! reference reaches the target from every starting pose; angles, wrap-around
//! and poles behave as docs/npl.md says; the observation holds the pose the
//! image is drawn from; seen and unseen cars are disjoint; a learner's `ACT`
//! is checked; and misuse is a diagnostic or a run-time error.

mod common;

use common::{errors, task};
use synth_compiler::{CarSet, RunErrorKind};

const GOTO: &str = "task goto
world pose(image: 16, cars: 10)
input(n) {
  camera(15 * random_int(-5..=5), 15 * random_int(0..=4))
  target(0, 15)
}
expect angle(azimuth) == target_angle(azimuth) && angle(elevation) == target_angle(elevation)
program GOTO {
  while angle(azimuth) > target_angle(azimuth) { rotate(azimuth, left) }
  while angle(azimuth) < target_angle(azimuth) { rotate(azimuth, right) }
  while angle(elevation) > target_angle(elevation) { rotate(elevation, down) }
  while angle(elevation) < target_angle(elevation) { rotate(elevation, up) }
}
";

fn stdlib_pose() -> synth_compiler::Task {
    let src = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../stdlib/pose_car.npl")).unwrap();
    task(&src)
}

#[test]
fn the_reference_reaches_the_target_from_every_paper_pose() {
    let t = stdlib_pose();
    let image = t.obs.image.clone().expect("a pose task has an image");
    assert_eq!((image.side, image.car, image.azimuth, image.elevation), (32, 2, 0, 1));
    let mut starts = std::collections::BTreeSet::new();
    for seed in 0..400 {
        let trace = t.trace(1, seed).unwrap();
        let views = t.trace_views(&trace);
        let (car, az, el) = views[0];
        assert!(car < 100, "a seen car: {car}");
        assert!((-75..=75).contains(&az) && (0..=60).contains(&el) && az % 15 == 0 && el % 15 == 0);
        assert_eq!(views.last().map(|v| (v.1, v.2)), Some((0, 15)));
        // One rotation of 15 degrees between consecutive views.
        for w in views.windows(2) {
            assert_eq!((w[0].1 - w[1].1).abs() + (w[0].2 - w[1].2).abs(), 15, "{views:?}");
        }
        starts.insert((az, el));
    }
    assert_eq!(starts.len(), 11 * 5, "every paper pose starts some trace");
}

#[test]
fn the_observation_is_the_pose_the_car_and_the_target() {
    let t = task(GOTO);
    let names: Vec<(&str, u16, bool)> = t.obs.features.iter().map(|f| (f.name.as_str(), f.classes, f.rendered)).collect();
    assert_eq!(
        names,
        [
            ("azimuth", 24, true),
            ("elevation", 13, true),
            ("car", u16::MAX, true),
            ("target_azimuth", 24, false),
            ("target_elevation", 13, false)
        ]
    );
    assert_eq!(t.obs.one_hot_width(), 24 + 13);
    assert_eq!((t.actions.as_slice(), t.pointers.as_slice()), (&["rotate".to_string()][..], &["azimuth".to_string(), "elevation".to_string()][..]));
    let inst = t.sample(1, 7).unwrap();
    let mut obs = [0u16; 5];
    inst.observe(&mut obs);
    let image = t.obs.image.clone().unwrap();
    let (car, az, el) = image.pose(&obs);
    assert!(car < 10);
    // The target (0, 15) in classes: azimuth 0 is column 11, elevation 15 column 7.
    assert_eq!((obs[3], obs[4]), (11, 7));
    let trace = t.trace(1, 7).unwrap();
    assert_eq!(t.trace_views(&trace)[0], (car, az, el));
}

#[test]
fn the_azimuth_wraps_and_the_elevation_stops_at_the_poles() {
    let src = GOTO.replace("camera(15 * random_int(-5..=5), 15 * random_int(0..=4))", "camera(-165, 90)");
    let t = task(&src);
    let mut inst = t.sample(1, 0).unwrap();
    let mut obs = [0u16; 5];
    // ACT(rotate, azimuth, left): -165 -> 180 -> 165.
    inst.act([0, 0, 0]).unwrap();
    inst.observe(&mut obs);
    assert_eq!(t.obs.image.as_ref().unwrap().pose(&obs).1, 180);
    inst.act([0, 0, 0]).unwrap();
    inst.observe(&mut obs);
    assert_eq!(t.obs.image.as_ref().unwrap().pose(&obs).1, 165);
    // Right twice: back through 180 to -165.
    inst.act([0, 0, 1]).unwrap();
    inst.act([0, 0, 1]).unwrap();
    inst.observe(&mut obs);
    assert_eq!(t.obs.image.as_ref().unwrap().pose(&obs).1, -165);
    // Up from 90 is past the pole.
    let e = inst.act([0, 1, 1]).unwrap_err();
    assert_eq!(e.kind, RunErrorKind::World);
    assert!(e.message.contains("past an elevation of 90"), "{}", e.message);
    // The target's pointers, other actions and directions are not the learner's.
    for bad in [[0, 2, 0], [1, 0, 0], [0, 0, 2]] {
        assert_eq!(inst.act(bad).unwrap_err().kind, RunErrorKind::BadAct, "{bad:?}");
    }
}

#[test]
fn a_pose_off_the_grid_is_a_run_time_error() {
    for (camera, needle) in [("camera(20, 0)", "multiple of 15"), ("camera(0, 105)", "from -90 to 90"), ("target(195, 0)", "from -180 to 180")] {
        let src = GOTO.replace("target(0, 15)", camera);
        let e = task(&src).trace(1, 0).unwrap_err();
        assert_eq!(e.kind, RunErrorKind::Value, "{camera}");
        assert!(e.message.contains(needle), "{camera}: {}", e.message);
    }
    // -180 and 180 are one pose.
    let src = GOTO.replace("camera(15 * random_int(-5..=5), 15 * random_int(0..=4))", "camera(-180, 0)");
    let trace = task(&src).trace(1, 0).unwrap();
    assert_eq!(task(&src).trace_views(&trace)[0].1, 180);
}

#[test]
fn seen_and_unseen_cars_are_disjoint_and_the_poses_do_not_depend_on_them() {
    let seen = task(GOTO);
    let mut unseen = seen.clone();
    unseen.cars = CarSet::Unseen;
    let mut seen_cars = std::collections::BTreeSet::new();
    for seed in 0..200 {
        let a = seen.trace(1, seed).unwrap();
        let b = unseen.trace(1, seed).unwrap();
        let (va, vb) = (seen.trace_views(&a), unseen.trace_views(&b));
        assert!(va[0].0 < 10 && vb[0].0 >= 32_768, "{:?} {:?}", va[0], vb[0]);
        // Same poses, same seed, whichever car.
        assert_eq!(va.iter().map(|v| (v.1, v.2)).collect::<Vec<_>>(), vb.iter().map(|v| (v.1, v.2)).collect::<Vec<_>>());
        assert_eq!(seen.trace(1, seed).unwrap(), a, "deterministic");
        seen_cars.insert(va[0].0);
    }
    assert_eq!(seen_cars.len(), 10, "every seen car is drawn");
}

#[test]
fn misuse_is_a_diagnostic() {
    let e = errors(&GOTO.replace("rotate(elevation, up)", "rotate(elevation, right)"));
    assert!(e.contains("the elevation turns `up` or `down`"), "{e}");
    let e = errors(&GOTO.replace("target(0, 15)", "rotate(azimuth, left)"));
    assert!(e.contains("is an action"), "{e}");
    let e = errors(&GOTO.replace("world pose(image: 16, cars: 10)", "world pose(image: 16, cars: 40000)"));
    assert!(e.contains("`cars` is the number of cars seen in training, 1 to 32768"), "{e}");
    let e = errors(&GOTO.replace("world pose(image: 16, cars: 10)", "world pose(16)"));
    assert!(e.contains("arguments are named"), "{e}");
}

#[test]
fn any_act_sequence_keeps_the_pose_on_its_grid() {
    // A learned model may send anything: every ACT is applied or refused,
    // never a panic, and the observation stays inside its classes.
    let t = task(GOTO);
    let classes: Vec<u16> = t.obs.features.iter().map(|f| f.classes).collect();
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = |k: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % k) as u16
    };
    for seed in 0..20 {
        let mut inst = t.sample(1, seed).unwrap();
        let mut obs = [0u16; 5];
        for _ in 0..300 {
            let act = [next(3), next(4), next(3)];
            match inst.act(act) {
                Ok(()) => assert!(act[0] == 0 && act[1] < 2 && act[2] < 2, "{act:?} accepted"),
                Err(e) => assert!(matches!(e.kind, RunErrorKind::BadAct | RunErrorKind::World), "{act:?}: {e:?}"),
            }
            inst.observe(&mut obs);
            for (v, c) in obs.iter().zip(&classes) {
                assert!(v < c, "{obs:?}");
            }
            let _ = inst.check().unwrap();
        }
    }
}
