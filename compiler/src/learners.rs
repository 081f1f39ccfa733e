//! The catalogue of learners a `learn` block can name, and the settings each
//! takes: name, kind of value and a one-line description. It is the one list
//! both sides read: the compiler checks a `learn` block against it (so a
//! misspelt setting is an error at `synth check`, with its span), and the
//! runtime takes a learner's setting names from it. The value *ranges* (a
//! learning rate at most 10, ...) are the runtime's to check, beside the
//! code that uses them.
//!
//! The settings every learner shares (`train sizes`, `traces`, `steps`,
//! `return`, ...) are read by the compiler itself, in [`crate::learn`], and
//! so is NRAM's `timesteps`, an expression of the size that the compiler
//! evaluates for every example.

/// What a setting's value must be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueKind {
    /// An integer of at least 1 (`hidden 128`).
    Positive,
    /// An integer of at least 0 (`threads 0`).
    Count,
    /// An integer or a decimal (`lr 3e-4`).
    Number,
    /// One of these words (`fuse concat`).
    Word(&'static [&'static str]),
    /// One size or a list of sizes, each at least 1 (`validation_sizes [20, 40]`).
    Sizes,
    /// A non-empty list of words from `list`, each as often as wanted
    /// (`modules [read, inc, write]`), or one word of `alone` by itself
    /// (`modules: program`).
    Words { list: &'static [&'static str], alone: &'static [&'static str] },
    /// A string (`start "read2(r0) r0 := read2"`).
    Text,
    /// An integer expression of the size `n` and the tape's `cells`
    /// (`timesteps: n + 3`). The compiler evaluates it at every size; it
    /// never reaches [`crate::LearnSpec::settings`].
    Expr,
}

impl ValueKind {
    /// The kind as a noun phrase, for messages: "a positive integer".
    pub fn phrase(self) -> String {
        match self {
            ValueKind::Positive => "a positive integer".into(),
            ValueKind::Count => "a non-negative integer".into(),
            ValueKind::Number => "a number".into(),
            ValueKind::Word(words) => {
                let quoted: Vec<String> = words.iter().map(|w| format!("`{w}`")).collect();
                match quoted.as_slice() {
                    [init @ .., last] if !init.is_empty() => format!("{} or {last}", init.join(", ")),
                    _ => quoted.concat(),
                }
            }
            ValueKind::Sizes => "a size or a list of sizes".into(),
            ValueKind::Words { alone, .. } => {
                let alone: Vec<String> = alone.iter().map(|w| format!("`{w}`")).collect();
                format!("a list of names such as `[read, inc, write]` or {}", alone.join(" or "))
            }
            ValueKind::Text => "a string in double quotes".into(),
            ValueKind::Expr => "an integer expression of `n` and `cells`".into(),
        }
    }
}

/// One setting of a learner.
#[derive(Clone, Copy, Debug)]
pub struct Setting {
    /// As written in a `learn` block with `_` for spaces, and in `--set`.
    pub name: &'static str,
    pub kind: ValueKind,
    pub doc: &'static str,
}

/// A learner a `learn` block can name.
#[derive(Clone, Copy, Debug)]
pub struct Learner {
    pub name: &'static str,
    pub doc: &'static str,
    /// Whether synth can train it today; the others are refused by name.
    pub implemented: bool,
    pub settings: &'static [Setting],
}

impl Learner {
    pub fn setting(&self, name: &str) -> Option<&'static Setting> {
        self.settings.iter().find(|s| s.name == name)
    }
}

const fn setting(name: &'static str, kind: ValueKind, doc: &'static str) -> Setting {
    Setting { name, kind, doc }
}

use ValueKind::{Count, Number, Positive, Sizes, Word};

/// NRAM's modules in the paper's (and the default) order: what
/// `modules [..]` may list, and what a tape program's operations map to
/// ([`crate::opgraph::ProgramOps::nram_map`]).
pub const NRAM_MODULES: [&str; 14] =
    ["read", "zero", "one", "two", "inc", "add", "sub", "dec", "lt", "le", "eq", "min", "max", "write"];

/// The Neural Random-Access Machine's settings (docs/nram.md has the model
/// and its defaults).
const NRAM: &[Setting] = &[
    setting("registers", Positive, "registers of the machine"),
    setting("timesteps", ValueKind::Expr, "timesteps the machine runs at size `n`, an expression of `n` and `cells`"),
    setting(
        "modules",
        ValueKind::Words { list: &NRAM_MODULES, alone: &["program"] },
        "the modules of the circuit, in order, or `program` for those the reference program uses",
    ),
    setting("controller", Word(&["mlp", "lstm"]), "the controller network"),
    setting("hidden", Positive, "units per hidden layer of the controller"),
    setting("seeds", Positive, "models trained from different seeds, the best kept"),
    setting("batch", Positive, "examples per optimiser step"),
    setting("lr", Number, "Adam learning rate"),
    setting("clip", Number, "global gradient-norm cap (0: none)"),
    setting("clip_activations", Number, "elementwise cap of every activation's gradient (0: none)"),
    setting("noise", Number, "variance of the Gaussian gradient noise at step 0 (0: none)"),
    setting("entropy", Number, "weight of the entropy bonus at step 0 (0: none)"),
    setting("entropy_decay", Number, "factor of the entropy bonus's decay per 1000 steps"),
    setting("curriculum_threshold", Number, "validation error under which the curriculum moves to the next size"),
    setting("curriculum_gap", Count, "fewest steps between two curriculum moves"),
    setting("validate_every", Positive, "steps between two validations"),
    setting("validation_count", Positive, "validation examples per size"),
    setting("patience", Positive, "perfect validations in a row that end training"),
    setting("give_up", Count, "validations in a row without improvement before training stops (0: never)"),
    setting("enough", Count, "converged seeds after which the others stop (0: train every seed to its end)"),
    setting("threads", Count, "training threads (0: one per physical core)"),
    setting("start", ValueKind::Text, "a circuit the controller starts next to, as `synth run` prints it: `read2(r0) inc3(read2) r0 := read2`"),
    setting("start_logit", Number, "how sure the controller starts of each choice `start` names (its logit above the others)"),
];

/// The Neural Programmer-Interpreter's settings (docs/npi.md has their
/// defaults).
const NPI: &[Setting] = &[
    setting("hidden", Positive, "units per core LSTM layer"),
    setting("layers", Positive, "core LSTM layers"),
    setting("embedding", Positive, "program embedding size"),
    setting("key", Positive, "program key size"),
    setting("encoder", Positive, "encoder MLP hidden units"),
    setting("state", Positive, "encoded state size"),
    setting("fuse", Word(&["mlp", "concat"]), "how the state and program embedding are fused"),
    setting("fuse_hidden", Positive, "units of the fuse MLP"),
    setting("observe", Word(&["all", "decisions"]), "what a program's encoder sees: the whole observation, or only what its decisions read"),
    setting("vision", Word(&["pixels", "cnn"]), "how the encoder sees a pose world's image: its raw pixels, or the features of a small CNN"),
    setting("batch", Positive, "frames per optimiser step"),
    setting("lr", Number, "Adam learning rate"),
    setting("lr_decay", Number, "factor of the step decay of the learning rate"),
    setting("lr_decay_every", Positive, "steps between two decays of the learning rate"),
    setting("clip", Number, "global gradient-norm cap (0: none)"),
    setting("sampling", Word(&["random", "coverage"]), "how the training inputs are drawn: each from its own seed, or each the best of 64 for unseen decision cases"),
    setting("curriculum", Word(&["adaptive", "uniform"]), "how training frames are sampled"),
    setting("temperature", Number, "softmax temperature over program errors (adaptive curriculum)"),
    setting("hard", Number, "share of each batch replaying frames last got wrong (adaptive curriculum)"),
    setting("validate_every", Positive, "steps between closed-loop validations"),
    setting("validation_sizes", Sizes, "input sizes of the validation runs"),
    setting("validation_count", Positive, "validation inputs per size"),
    setting("validation_budget", Positive, "most reference steps per validation with the default sizes"),
    setting("patience", Positive, "perfect validations in a row that end training"),
    setting("plateau", Count, "validations without improvement before the learning rate halves (0: never)"),
    setting("give_up", Count, "validations in a row without more exact matches than the best before training stops (0: never)"),
    setting("threads", Count, "training threads (0: one per physical core)"),
];

/// The Neural Programmer's settings (Neelakantan et al. 2016). `timesteps`
/// is the `T` of the paper (4 there); the compiler checks it against every
/// question's latent program and defaults it to the longest one.
const NP: &[Setting] = &[
    setting("timesteps", Positive, "steps of the selector (the paper's T); at least the longest latent program"),
    setting("questions", Positive, "training questions in all, spread over the train sizes"),
    setting("hidden", Positive, "units of the question and history RNNs"),
    setting("embedding", Positive, "word embedding size"),
    setting("batch", Positive, "questions per optimiser step"),
    setting("lr", Number, "Adam learning rate"),
    setting("epsilon", Number, "Adam epsilon"),
    setting("clip", Number, "global gradient-norm cap (0: none)"),
    setting("noise", Number, "variance of the Gaussian gradient noise at step 0 (0: none)"),
    setting("noise_decay", Number, "exponent gamma of the noise's decay, variance noise / (1 + step)^gamma"),
    setting("huber", Number, "delta of the Huber loss on the scalar answers' relative error"),
    setting("lookup_weight", Number, "weight of the lookup answers' loss against the scalar one"),
    setting("entropy", Number, "weight of the entropy bonus on the operation and column choices at step 0 (0: none)"),
    setting("entropy_decay", Number, "factor of the entropy bonus's decay per 1000 steps"),
    setting("search", Count, "questions per step searched for a program that answers them (0: none)"),
    setting("imitate", Number, "weight of the log-likelihood of the programs the search found"),
    setting("seeds", Positive, "models trained from different seeds, the best kept"),
    setting("validate_every", Positive, "steps between two validations"),
    setting("validation_count", Positive, "validation questions per size"),
    setting("patience", Positive, "perfect validations in a row that end training"),
    setting("give_up", Count, "validations in a row without improvement before training stops (0: never)"),
    setting("threads", Count, "training threads (0: one per physical core)"),
];

/// The Neural Turing Machine's settings (docs/ntm.md has the model and its
/// defaults).
const NTM: &[Setting] = &[
    setting("controller", Word(&["lstm", "mlp"]), "the controller network"),
    setting("hidden", Positive, "units of the controller"),
    setting("memory", Positive, "memory locations (more when an episode has more steps)"),
    setting("width", Positive, "width of a memory word"),
    setting("batch", Positive, "examples per optimiser step"),
    setting("lr", Number, "Adam learning rate"),
    setting("clip", Number, "global gradient-norm cap (0: none)"),
    setting("validate_every", Positive, "steps between two validations"),
    setting("validation_sizes", Sizes, "input sizes of the validation runs (default: the largest training size)"),
    setting("validation_count", Positive, "validation inputs per size"),
    setting("patience", Positive, "perfect validations in a row that end training"),
    setting("give_up", Count, "validations in a row without improvement before training stops (0: never)"),
    setting("seeds", Positive, "machines trained from different seeds, one after another, the best kept"),
    setting("enough", Count, "converged seeds after which no more are trained (0: train every seed)"),
    setting("threads", Count, "training threads (0: one per physical core)"),
];

/// Every learner, the implemented ones first.
pub const LEARNERS: &[Learner] = &[
    Learner {
        name: "npi",
        doc: "the Neural Programmer-Interpreter, trained on traces",
        implemented: true,
        settings: NPI,
    },
    Learner {
        name: "nram",
        doc: "the Neural Random-Access Machine, trained on input/output pairs of tape worlds",
        implemented: true,
        settings: NRAM,
    },
    Learner {
        name: "np",
        doc: "the Neural Programmer, trained on table questions and their answers",
        implemented: true,
        settings: NP,
    },
    Learner {
        name: "ntm",
        doc: "the Neural Turing Machine, a baseline trained on input/output pairs of tape worlds",
        implemented: true,
        settings: NTM,
    },
];

pub fn lookup(name: &str) -> Option<&'static Learner> {
    LEARNERS.iter().find(|l| l.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_kinds_read_well() {
        for l in LEARNERS {
            for (i, s) in l.settings.iter().enumerate() {
                assert!(l.settings[..i].iter().all(|t| t.name != s.name), "{} twice", s.name);
                assert!(!s.doc.is_empty() && !s.doc.ends_with('.'), "{}", s.name);
            }
        }
        assert_eq!(
            lookup("npi").and_then(|l| l.setting("fuse")).map(|s| s.kind.phrase()).as_deref(),
            Some("`mlp` or `concat`")
        );
        assert!(lookup("nram").is_some_and(|l| l.implemented && l.setting("timesteps").is_some()));
        assert!(lookup("np").is_some_and(|l| l.implemented && l.setting("questions").is_some()));
        assert!(lookup("lstm").is_none());
    }
}
