//! Scratch: GFLOP/s of the two GEMMs on the NPI's shapes.
use mimalloc::MiMalloc;
#[global_allocator]
static GLOBAL: MiMalloc = MiMalloc;
use std::time::Instant;
use synth_runtime::kernels::{gemm, Mat};
use synth_runtime::sgemm;

fn time(name: &str, flops: f64, mut f: impl FnMut()) {
    for _ in 0..3 { f(); }
    let n = 40;
    let mut best = f64::MAX;
    for _ in 0..n { let t = Instant::now(); f(); best = best.min(t.elapsed().as_secs_f64()); }
    println!("{name:55} {:8.3} ms  {:6.1} GFLOP/s", best * 1e3, flops / best / 1e9);
}

fn main() {
    for &(m, k, n, at, bt) in &[(640usize, 257usize, 1024usize, false, true), (32, 256, 1024, false, false), (32, 1024, 256, false, false), (640, 1024, 256, false, false), (1024, 640, 513, true, false), (32, 512, 1024, false, false), (1024, 1024, 1024, false, false)] {
        let a: Vec<f32> = (0..m * k).map(|i| (i % 3) as f32 * 0.1).collect();
        let b: Vec<f32> = (0..k * n).map(|i| (i % 5) as f32 * 0.01).collect();
        let am = if at { Mat::transposed(&a, m) } else { Mat::rows(&a, k) };
        let bm = if bt { Mat::transposed(&b, k) } else { Mat::rows(&b, n) };
        let mut c = vec![0f32; m * n];
        let fl = 2.0 * (m * n * k) as f64;
        let label = format!("{m}x{k}x{n} a{} b{}", if at { "T" } else { "" }, if bt { "T" } else { "" });
        time(&format!("gemm crate   {label}"), fl, || unsafe { gemm(m, n, k, c.as_mut_ptr(), n as isize, false, am, bm, 1) });
        time(&format!("sgemm        {label}"), fl, || unsafe { sgemm::gemm(m, n, k, am, bm, c.as_mut_ptr(), n, false) });
        let packed = unsafe { sgemm::PackedB::new(k, n, bm) };
        time(&format!("sgemm packed {label}"), fl, || unsafe { sgemm::gemm_packed(m, am, &packed, c.as_mut_ptr(), n, false) });
    }
}
