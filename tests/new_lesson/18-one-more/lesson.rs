//! A throw-away lesson 18, for the test that adding a lesson is adding its folder
//! (`tests/new_lesson.rs`, and the last step of `.ci/run`): one step, one child.

use crate::lesson::prelude::*;
use crate::multiprocessing::Process;

pub fn run(lab: &mut Lab) -> Result<()> {
    lab.step("One child")?;
    let mut child = Process::new(|| say!("the new lesson's child runs")).named("newcomer");
    child.start()?;
    child.join()?;
    note!(
        en: "The child ran and was joined.",
        zh: "子进程运行完毕，已被 join 回收。",
    );
    Ok(())
}
