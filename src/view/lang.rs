//! The lab's two languages now live at the bottom of the layers, in [`crate::i18n`], where the
//! runtime can reach them. This path stays for the lessons that still import
//! `crate::view::lang` until they import everything from one prelude.

pub use crate::i18n::*;
