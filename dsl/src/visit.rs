//! One walk over the syntax tree, for the passes that read the tree as
//! written (before names are resolved): a [`Visitor`] overrides the nodes it
//! cares about and calls [`walk_block`], [`walk_stmt`] or [`walk_expr`] to go
//! on into their children, which are visited in evaluation order (operands
//! left to right, a call's arguments as written, a loop's condition or range
//! before its body).
//!
//! The recursion is as deep as the tree, which the parser bounds.

use crate::ast::{Block, Expr, ExprKind, Stmt, StmtKind};

pub trait Visitor {
    fn visit_block(&mut self, b: &Block) {
        walk_block(self, b)
    }

    fn visit_stmt(&mut self, s: &Stmt) {
        walk_stmt(self, s)
    }

    fn visit_expr(&mut self, e: &Expr) {
        walk_expr(self, e)
    }
}

/// Visits every statement of `b`.
pub fn walk_block<V: Visitor + ?Sized>(v: &mut V, b: &Block) {
    for s in &b.stmts {
        v.visit_stmt(s);
    }
}

/// Visits the expressions and blocks of `s`: an `if`'s conditions and arms,
/// then its `else`; a loop's condition or range, then its body.
pub fn walk_stmt<V: Visitor + ?Sized>(v: &mut V, s: &Stmt) {
    match &s.kind {
        StmtKind::Let { value, .. } => v.visit_expr(value),
        StmtKind::Assign { target, value } => {
            v.visit_expr(target);
            v.visit_expr(value);
        }
        StmtKind::If { arms, otherwise } => {
            for (cond, body) in arms {
                v.visit_expr(cond);
                v.visit_block(body);
            }
            if let Some(body) = otherwise {
                v.visit_block(body);
            }
        }
        StmtKind::While { cond, body } => {
            v.visit_expr(cond);
            v.visit_block(body);
        }
        StmtKind::For { iter, body, .. } => {
            v.visit_expr(iter);
            v.visit_block(body);
        }
        StmtKind::Return => {}
        StmtKind::Expr(e) => v.visit_expr(e),
    }
}

/// Visits the sub-expressions of `e` (not `e` itself).
pub fn walk_expr<V: Visitor + ?Sized>(v: &mut V, e: &Expr) {
    match &e.kind {
        ExprKind::List(xs) => xs.iter().for_each(|x| v.visit_expr(x)),
        ExprKind::Range { start, end, .. } => {
            v.visit_expr(start);
            v.visit_expr(end);
        }
        ExprKind::Unary { expr, .. } => v.visit_expr(expr),
        ExprKind::Binary { lhs, rhs, .. } => {
            v.visit_expr(lhs);
            v.visit_expr(rhs);
        }
        ExprKind::Call { args, .. } => args.iter().for_each(|a| v.visit_expr(&a.value)),
        ExprKind::Index { base, index } => {
            v.visit_expr(base);
            v.visit_expr(index);
        }
        ExprKind::Int(_)
        | ExprKind::Float(_)
        | ExprKind::Bool(_)
        | ExprKind::Blank
        | ExprKind::Left
        | ExprKind::Right
        | ExprKind::Str(_)
        | ExprKind::Name(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ast::ItemKind;

    /// Collects the names and calls it meets, in order.
    #[derive(Default)]
    struct Seen(Vec<String>);

    impl Visitor for Seen {
        fn visit_expr(&mut self, e: &Expr) {
            match &e.kind {
                ExprKind::Name(n) => self.0.push(n.name.clone()),
                ExprKind::Call { callee, .. } => self.0.push(format!("{}()", callee.name)),
                _ => {}
            }
            walk_expr(self, e)
        }
    }

    #[test]
    fn visits_in_evaluation_order() {
        let (file, diags) = crate::parse(
            "program P(a) {\n  let x = a + f(b, c)\n  if x > 0 { G(x) } else { y = z[i] }\n  for i in 0..n { move(p, right) }\n}\n",
        );
        assert!(diags.is_empty(), "{diags:?}");
        let ItemKind::Program(p) = &file.items[0].kind else { panic!("a program") };
        let mut seen = Seen::default();
        seen.visit_block(&p.body);
        assert_eq!(seen.0.join(" "), "a f() b c x G() x y z i n move() p");
    }
}
