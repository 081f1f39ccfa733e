use mimalloc::MiMalloc;
#[global_allocator]
static GLOBAL: MiMalloc = MiMalloc;
use std::time::Instant;
use synth_runtime::kernels::{gemm, Mat};

fn time(name: &str, flops: f64, mut f: impl FnMut()) {
    for _ in 0..3 { f(); }
    let n = 50;
    let t = Instant::now();
    for _ in 0..n { f(); }
    let dt = t.elapsed().as_secs_f64() / n as f64;
    println!("{name:50} {:8.3} ms  {:6.1} GFLOP/s", dt * 1e3, flops / dt / 1e9);
}

fn main() {
    if std::env::args().any(|a| a == "par") { par_probe(); return; }
    if std::env::args().any(|a| a == "big") { big_probe(); return; }
    let h = 256; let g = 4 * h;
    let w: Vec<f32> = (0..g * h).map(|i| (i % 7) as f32 * 0.01).collect(); // (4H, H)
    let wt: Vec<f32> = (0..g * h).map(|i| (i % 5) as f32 * 0.01).collect(); // (H, 4H)
    let x: Vec<f32> = (0..64 * 2 * h).map(|i| (i % 3) as f32 * 0.1).collect();
    let mut d = vec![0f32; 64 * 2 * g];
    for m in [1usize, 32, 64] {
        let fl = 2.0 * (m * h * g) as f64;
        time(&format!("m={m} x(m,H) * W^T view (rs1,csH)"), fl, || unsafe { gemm(m, g, h, d.as_mut_ptr(), g as isize, true, Mat::rows(&x, h), Mat::transposed(&w, h), 1) });
        time(&format!("m={m} x(m,H) * Wt row-major (H,4H)"), fl, || unsafe { gemm(m, g, h, d.as_mut_ptr(), g as isize, true, Mat::rows(&x, h), Mat::rows(&wt, g), 1) });
        time(&format!("m={m} strided rows x * Wt row-major"), fl, || unsafe { gemm(m, g, h, d.as_mut_ptr(), 2 * g as isize, true, Mat { ptr: x.as_ptr(), rs: 2 * h as isize, cs: 1 }, Mat::rows(&wt, g), 1) });
        time(&format!("m={m} strided rows x * W^T view"), fl, || unsafe { gemm(m, g, h, d.as_mut_ptr(), 2 * g as isize, true, Mat { ptr: x.as_ptr(), rs: 2 * h as isize, cs: 1 }, Mat::transposed(&w, h), 1) });
        // backward: dgates (m,4H) * W (4H,H)
        let dg: Vec<f32> = (0..64 * 2 * g).map(|i| (i % 3) as f32 * 0.1).collect();
        let mut dh = vec![0f32; 64 * h];
        time(&format!("m={m} dg(m,4H) * W (4H,H) row-major"), fl, || unsafe { gemm(m, h, g, dh.as_mut_ptr(), h as isize, false, Mat::rows(&dg, g), Mat::rows(&w, h), 1) });
        time(&format!("m={m} dg strided * W row-major"), fl, || unsafe { gemm(m, h, g, dh.as_mut_ptr(), h as isize, false, Mat { ptr: dg.as_ptr(), rs: 2 * g as isize, cs: 1 }, Mat::rows(&w, h), 1) });
    }
    // dW = dG^T (4H x R) * Hprev (R x H), R = 1216
    let r = 1216;
    let dgs: Vec<f32> = (0..r * g).map(|i| (i % 3) as f32 * 0.1).collect();
    let hp: Vec<f32> = (0..r * h).map(|i| (i % 3) as f32 * 0.1).collect();
    let mut dw = vec![0f32; g * h];
    for th in [1, 2] {
        time(&format!("dW (4H,R)x(R,H) R={r} threads {th}"), 2.0 * (r * h * g) as f64, || unsafe { gemm(g, h, r, dw.as_mut_ptr(), h as isize, false, Mat { ptr: dgs.as_ptr(), rs: 1, cs: g as isize }, Mat::rows(&hp, h), th) });
    }
    // candle matmul (1280, 256) x (256, 1024)^T
    let dev = candle_core::Device::Cpu;
    let a = candle_core::Tensor::randn(0f32, 1., (1280, 256), &dev).unwrap();
    let b = candle_core::Tensor::randn(0f32, 1., (1024, 256), &dev).unwrap();
    time("candle (1280,256) x (1024,256)^T", 2.0 * 1280.0 * 256.0 * 1024.0, || { let _ = a.matmul(&b.t().unwrap()).unwrap(); });
    let bt = b.t().unwrap().contiguous().unwrap();
    time("candle (1280,256) x (256,1024)", 2.0 * 1280.0 * 256.0 * 1024.0, || { let _ = a.matmul(&bt).unwrap(); });
}

#[allow(dead_code)]
fn par_probe() {
    let n = 1024;
    let a: Vec<f32> = (0..n * n).map(|i| (i % 7) as f32).collect();
    let b = a.clone();
    let mut d = vec![0f32; n * n];
    for th in [1, 2] {
        time(&format!("1024^3 threads {th}"), 2.0 * (n * n * n) as f64, || unsafe { gemm(n, n, n, d.as_mut_ptr(), n as isize, false, Mat::rows(&a, n), Mat::rows(&b, n), th) });
    }
    // two independent single-thread gemms on two std threads
    let t = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..2 {
            let (a, b) = (&a, &b);
            s.spawn(move || { let mut d = vec![0f32; n * n]; for _ in 0..10 { unsafe { gemm(n, n, n, d.as_mut_ptr(), n as isize, false, Mat::rows(a, n), Mat::rows(b, n), 1) } } });
        }
    });
    let dt = t.elapsed().as_secs_f64();
    println!("2 std threads x 10 gemms 1024^3: {:.1} GFLOP/s total", 20.0 * 2.0 * (n * n * n) as f64 / dt / 1e9);
}

fn big_probe() {
    let (r, inp, g) = (640usize, 513usize, 1024usize);
    let x: Vec<f32> = (0..r * inp).map(|i| (i % 3) as f32 * 0.1).collect();
    let wt: Vec<f32> = (0..inp * g).map(|i| (i % 5) as f32 * 0.01).collect();
    let dg: Vec<f32> = (0..r * g).map(|i| (i % 7) as f32 * 0.01).collect();
    let mut out = vec![0f32; r * g];
    let fl = 2.0 * (r * inp * g) as f64;
    time("fwd X(640,513) * Wt(513,1024) row-major", fl, || unsafe { gemm(r, g, inp, out.as_mut_ptr(), g as isize, false, Mat::rows(&x, inp), Mat::rows(&wt, g), 1) });
    time("fwd X(640,513) * W^T view", fl, || unsafe { gemm(r, g, inp, out.as_mut_ptr(), g as isize, false, Mat::rows(&x, inp), Mat::transposed(&wt, inp), 1) });
    let mut dx = vec![0f32; r * inp];
    time("dX dG(640,1024) * W(1024,513) row-major", fl, || unsafe { gemm(r, inp, g, dx.as_mut_ptr(), inp as isize, false, Mat::rows(&dg, g), Mat::rows(&wt, inp), 1) });
    let mut dw = vec![0f32; g * inp];
    time("dW(1024,513) = dG^T view * X", fl, || unsafe { gemm(g, inp, r, dw.as_mut_ptr(), inp as isize, false, Mat::transposed(&dg, g), Mat::rows(&x, inp), 1) });
    time("dWt(513,1024) = X^T view * dG", fl, || unsafe { gemm(inp, g, r, dw.as_mut_ptr(), g as isize, false, Mat::transposed(&x, inp), Mat::rows(&dg, g), 1) });
    let mut dgt = vec![0f32; g * r];
    time("transpose dG then dW row-major", fl, || { for i in 0..r { for j in 0..g { dgt[j * r + i] = dg[i * g + j]; } } unsafe { gemm(g, inp, r, dw.as_mut_ptr(), inp as isize, false, Mat::rows(&dgt, r), Mat::rows(&x, inp), 1) } });
}
