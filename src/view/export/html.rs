//! The page to explore: for now the SVG picture in a page of its own.

use crate::view::export::svg::{Layout, draw};
use crate::view::export::{Background, Palette, Run, escape};

pub fn page(run: &Run, background: Background) -> String {
    let palette = Palette::new(background);
    format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{}</title></head>\
         <body style=\"margin:0;background:{}\">{}</body></html>\n",
        escape(&run.title),
        palette.background,
        draw(run, background, &Layout::slide())
    )
}
