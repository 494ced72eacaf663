//! The lab's tools beside the lessons: the tutorial's echo server and client (`serve`,
//! `client`), the same service served five ways (`models`, lesson 16 and `serve --model`), and
//! the measuring tools (`bench`, `load`).

pub mod bench;
pub mod echo;
pub mod load;
pub mod models;
pub mod replay;
