//! Parameter storage: a candle `VarMap` filled deterministically.
//!
//! candle's CPU random generator cannot be seeded, so fresh parameters come
//! from [`SeededInit`], a `VarBuilder` backend that draws every new variable
//! from a ChaCha generator in the order the model asks for them. Loading goes
//! the other way: safetensors bytes become the `Var`s of a `VarMap`, and the
//! same model constructor picks them up by name.

use candle_core::{DType, Device, Shape, Tensor, Var};
use candle_nn::{Init, VarBuilder, VarMap};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

/// A `VarBuilder` backend that returns the variable already in `varmap` or
/// creates it from the seeded generator.
pub struct SeededInit {
    varmap: VarMap,
    rng: Mutex<ChaCha8Rng>,
}

impl SeededInit {
    /// A builder over `varmap` drawing new variables from `seed`.
    pub fn builder(varmap: &VarMap, seed: u64, dev: &Device) -> VarBuilder<'static> {
        let backend = SeededInit { varmap: varmap.clone(), rng: Mutex::new(ChaCha8Rng::seed_from_u64(seed)) };
        VarBuilder::from_backend(Box::new(backend), DType::F32, dev.clone())
    }
}

impl candle_nn::var_builder::SimpleBackend for SeededInit {
    fn get(&self, s: Shape, name: &str, h: Init, _dtype: DType, dev: &Device) -> candle_core::Result<Tensor> {
        let mut data = self.varmap.data().lock().unwrap();
        if let Some(v) = data.get(name) {
            if v.shape() != &s {
                candle_core::bail!("shape mismatch for {name}: expected {s:?}, found {:?}", v.shape());
            }
            return Ok(v.as_tensor().clone());
        }
        let n = s.elem_count();
        let mut rng = self.rng.lock().unwrap();
        let values: Vec<f32> = match h {
            Init::Const(c) => vec![c as f32; n],
            Init::Uniform { lo, up } => (0..n).map(|_| rng.random_range(lo as f32..up as f32)).collect(),
            Init::Randn { mean, stdev } => (0..n)
                .map(|_| {
                    // Box-Muller.
                    let u1: f32 = rng.random_range(f32::EPSILON..1.0);
                    let u2: f32 = rng.random();
                    mean as f32 + stdev as f32 * (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos()
                })
                .collect(),
            Init::Kaiming { .. } => candle_core::bail!("{name}: Kaiming init is not supported here, use Uniform"),
        };
        let var = Var::from_vec(values, s, dev)?;
        let t = var.as_tensor().clone();
        data.insert(name.to_string(), var);
        Ok(t)
    }

    fn get_unchecked(&self, name: &str, _dtype: DType, _dev: &Device) -> candle_core::Result<Tensor> {
        match self.varmap.data().lock().unwrap().get(name) {
            Some(v) => Ok(v.as_tensor().clone()),
            None => candle_core::bail!("no variable {name}"),
        }
    }

    fn contains_tensor(&self, name: &str) -> bool {
        self.varmap.data().lock().unwrap().contains_key(name)
    }
}

/// A `VarBuilder` over the variables already in `varmap` that refuses a
/// name it does not hold or a shape that differs, instead of creating a
/// variable: a model built from loaded weights gets exactly those weights,
/// and a config that does not fit them (from a corrupt or edited
/// checkpoint) fails by name before anything is allocated for it. The
/// returned [`Used`] tells afterwards which variables nothing asked for.
pub fn existing_builder(varmap: &VarMap, dev: &Device) -> (VarBuilder<'static>, Used) {
    let used = Used(Arc::new(Mutex::new(BTreeSet::new())));
    let backend = Existing { varmap: varmap.clone(), used: used.clone() };
    (VarBuilder::from_backend(Box::new(backend), DType::F32, dev.clone()), used)
}

/// The names an [`existing_builder`] was asked for.
#[derive(Clone)]
pub struct Used(Arc<Mutex<BTreeSet<String>>>);

impl Used {
    /// The variables of `varmap` that were never asked for, sorted.
    pub fn unused(&self, varmap: &VarMap) -> Vec<String> {
        let used = self.0.lock().unwrap();
        sorted_vars(varmap).into_iter().map(|(k, _)| k).filter(|k| !used.contains(k)).collect()
    }
}

struct Existing {
    varmap: VarMap,
    used: Used,
}

impl Existing {
    fn lookup(&self, name: &str) -> candle_core::Result<Var> {
        self.used.0.lock().unwrap().insert(name.to_string());
        match self.varmap.data().lock().unwrap().get(name) {
            Some(v) => Ok(v.clone()),
            None => candle_core::bail!("the weights have no `{name}`"),
        }
    }
}

impl candle_nn::var_builder::SimpleBackend for Existing {
    fn get(&self, s: Shape, name: &str, _h: Init, _dtype: DType, _dev: &Device) -> candle_core::Result<Tensor> {
        let v = self.lookup(name)?;
        if v.shape() != &s {
            candle_core::bail!("`{name}` is {:?} in the weights, the config makes it {:?}", v.dims(), s.dims());
        }
        Ok(v.as_tensor().clone())
    }

    fn get_unchecked(&self, name: &str, _dtype: DType, _dev: &Device) -> candle_core::Result<Tensor> {
        Ok(self.lookup(name)?.as_tensor().clone())
    }

    fn contains_tensor(&self, name: &str) -> bool {
        self.varmap.data().lock().unwrap().contains_key(name)
    }
}

/// The variables of `varmap` sorted by name (`VarMap::all_vars` is in
/// `HashMap` order, which would make training depend on the run).
pub fn sorted_vars(varmap: &VarMap) -> Vec<(String, Var)> {
    let data = varmap.data().lock().unwrap();
    let mut vars: Vec<(String, Var)> = data.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    vars.sort_by(|a, b| a.0.cmp(&b.0));
    vars
}

/// Sets variable `name` to `values` (same shape).
pub fn set_var(varmap: &VarMap, name: &str, values: Vec<f32>) -> candle_core::Result<()> {
    let data = varmap.data().lock().unwrap();
    let Some(v) = data.get(name) else { candle_core::bail!("no variable {name}") };
    let t = Tensor::from_vec(values, v.shape(), v.device())?;
    v.set(&t)
}

/// Serialises every variable as safetensors bytes.
pub fn to_safetensors(varmap: &VarMap) -> candle_core::Result<Vec<u8>> {
    let vars = sorted_vars(varmap);
    let tensors: Vec<(String, Tensor)> = vars.into_iter().map(|(k, v)| (k, v.as_tensor().clone())).collect();
    let views: Vec<(&str, &Tensor)> = tensors.iter().map(|(k, t)| (k.as_str(), t)).collect();
    let bytes = safetensors::tensor::serialize(views, None).map_err(|e| candle_core::Error::Msg(e.to_string()))?;
    Ok(bytes)
}

/// A `VarMap` holding the tensors of safetensors bytes as variables.
pub fn from_safetensors(bytes: &[u8], dev: &Device) -> candle_core::Result<VarMap> {
    let tensors: HashMap<String, Tensor> = candle_core::safetensors::load_buffer(bytes, dev)?;
    let varmap = VarMap::new();
    {
        let mut data = varmap.data().lock().unwrap();
        for (k, t) in tensors {
            data.insert(k, Var::from_tensor(&t.to_dtype(DType::F32)?)?);
        }
    }
    Ok(varmap)
}

/// Named f32 tensors `(name, shape, values)` as safetensors bytes, for
/// models that keep their parameters in plain slices.
pub fn slices_to_safetensors(tensors: &[(&str, &[usize], &[f32])]) -> Result<Vec<u8>, String> {
    let bytes: Vec<Vec<u8>> = tensors.iter().map(|(_, _, v)| v.iter().flat_map(|x| x.to_le_bytes()).collect()).collect();
    let mut views = Vec::with_capacity(tensors.len());
    for ((name, shape, _), b) in tensors.iter().zip(&bytes) {
        let view = safetensors::tensor::TensorView::new(safetensors::Dtype::F32, shape.to_vec(), b).map_err(|e| e.to_string())?;
        views.push((*name, view));
    }
    safetensors::tensor::serialize(views, None).map_err(|e| e.to_string())
}

/// The f32 tensor `name` of safetensors bytes, which must have `shape` and
/// only finite values; the error says what is wrong.
pub fn read_f32(st: &safetensors::SafeTensors, name: &str, shape: &[usize]) -> Result<Vec<f32>, String> {
    let t = st.tensor(name).map_err(|_| format!("no `{name}`"))?;
    if t.dtype() != safetensors::Dtype::F32 {
        return Err(format!("`{name}` is {:?}, not f32", t.dtype()));
    }
    if t.shape() != shape {
        return Err(format!("`{name}` is {:?}, the config makes it {shape:?}", t.shape()));
    }
    let values: Vec<f32> = t.data().chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
    match values.iter().find(|v| !v.is_finite()) {
        Some(v) => Err(format!("`{name}` holds {v}")),
        None => Ok(values),
    }
}

/// The flat parameter vector `params` as safetensors, one tensor per
/// `(name, shape, offset)` of `tensors`: how NRAM, the Neural Programmer
/// and the NTM save their parameters ([`read_flat`] reads them back).
///
/// # Panics
/// If a tensor reaches past `params` (a layout that does not fit its
/// model: a programming error).
pub fn write_flat(params: &[f32], tensors: &[(&str, [usize; 2], usize)]) -> Vec<u8> {
    let slices: Vec<(&str, &[usize], &[f32])> = tensors.iter().map(|(name, shape, off)| (*name, &shape[..], &params[*off..*off + shape[0] * shape[1]])).collect();
    // In-memory f32 slices of consistent shapes always serialise.
    slices_to_safetensors(&slices).expect("consistent shapes serialise")
}

/// Why flat parameters did not load: the bytes are not safetensors or hold
/// values that are not finite, or they are not the tensors the config
/// makes.
#[derive(Debug, PartialEq, Eq)]
pub enum FlatError {
    Weights(String),
    Mismatch(String),
}

/// The flat parameter vector of `len` values that `tensors` (name, shape,
/// offset) lay out, read from safetensors `bytes` holding exactly those
/// tensors: what the learners that keep their parameters in one slice
/// (NRAM, the Neural Programmer) load a checkpoint with.
pub fn read_flat(bytes: &[u8], tensors: &[(&str, [usize; 2], usize)], len: usize) -> Result<Vec<f32>, FlatError> {
    let st = safetensors::SafeTensors::deserialize(bytes).map_err(|e| FlatError::Weights(e.to_string()))?;
    if st.len() != tensors.len() {
        return Err(FlatError::Mismatch(format!("{} tensors, the config makes {}", st.len(), tensors.len())));
    }
    let mut params = vec![0f32; len];
    for &(name, shape, off) in tensors {
        let values = read_f32(&st, name, &shape).map_err(|e| if e.contains("holds") { FlatError::Weights(e) } else { FlatError::Mismatch(e) })?;
        params[off..off + values.len()].copy_from_slice(&values);
    }
    Ok(params)
}
