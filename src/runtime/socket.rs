//! What the kernel holds for a socket of this process, asked without touching it.

use std::io;
use std::os::fd::{AsFd, AsRawFd};

/// How many bytes have arrived on `socket` and wait to be read (`ioctl(FIONREAD)`, Python's
/// `fcntl.ioctl(sock, termios.FIONREAD, buf)`): what the next read could return at most,
/// without reading it or waiting. On a listening socket, and on a pipe, it is what waits there
/// as well.
pub fn bytes_waiting(socket: impl AsFd) -> io::Result<usize> {
    let mut bytes: libc::c_int = 0;
    // SAFETY: FIONREAD writes one int, the number of bytes waiting, into `bytes`; the
    // descriptor is borrowed, so it stays open during the call.
    let result = unsafe { libc::ioctl(socket.as_fd().as_raw_fd(), libc::FIONREAD, &mut bytes) };
    if result < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(bytes as usize)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::os::unix::net::UnixStream;

    #[test]
    fn counts_what_was_sent_and_not_yet_read() {
        let (mut sender, receiver) = UnixStream::pair().unwrap();
        assert_eq!(bytes_waiting(&receiver).unwrap(), 0);
        sender.write_all(b"hello").unwrap();
        assert_eq!(bytes_waiting(&receiver).unwrap(), 5);
    }
}
