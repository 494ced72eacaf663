//! The lab's tools beside the lessons: the tutorial's echo server and client (`serve`,
//! `client`), and the measuring tools (`bench`, `load`).

pub mod bench;
pub mod echo;
pub mod load;
pub mod replay;
