//! What a traced program waits on, named the way a student can recognise it: a descriptor by
//! what `/proc/<pid>/fd` says it is (`pipe:[1234]`, a socket by its address), a futex by its
//! address and, when it lies in a shared file under `/dev/shm`, by that file. And reading the
//! traced program's memory (a buffer it writes, a time it sleeps).

use std::collections::HashMap;
use std::fs;

/// Reads up to `len` bytes at `address` in process `tid`'s memory (fewer where it ends).
pub fn read_memory(tid: i32, address: u64, len: usize) -> Vec<u8> {
    let mut buffer = vec![0u8; len];
    if len == 0 || address == 0 {
        return Vec::new();
    }
    let local = libc::iovec {
        iov_base: buffer.as_mut_ptr().cast(),
        iov_len: len,
    };
    let remote = libc::iovec {
        iov_base: address as *mut libc::c_void,
        iov_len: len,
    };
    // SAFETY: `local` points at `buffer`, `len` bytes long; the remote side is only read.
    let read = unsafe { libc::process_vm_readv(tid, &local, 1, &remote, 1, 0) };
    buffer.truncate(read.max(0) as usize);
    buffer
}

/// Reads a NUL-terminated string (a path: at most 4096 bytes) at `address`.
pub fn read_c_string(tid: i32, address: u64) -> String {
    let bytes = read_memory(tid, address, 4096);
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

/// Reads a `u64` (or what fits) at `address`.
pub fn read_u64(tid: i32, address: u64) -> Option<u64> {
    let bytes = read_memory(tid, address, 8);
    Some(u64::from_ne_bytes(bytes.try_into().ok()?))
}

/// A `struct timespec` (or `timeval`: `scale` 1000 for its microseconds) at `address`.
pub fn read_duration(tid: i32, address: u64, scale: u64) -> Option<f64> {
    let seconds = read_u64(tid, address)?;
    let fraction = read_u64(tid, address + 8)?;
    Some(seconds as f64 + (fraction * scale) as f64 / 1e9)
}

/// What descriptor `fd` of `tid` is: `/proc/<tid>/fd/<fd>`'s link (`pipe:[1234]`,
/// `socket:[5678]`, `/dev/null` ...).
pub fn fd_link(tid: i32, fd: i32) -> Option<String> {
    fs::read_link(format!("/proc/{tid}/fd/{fd}"))
        .ok()
        .map(|path| path.to_string_lossy().into_owned())
}

/// Names found once and kept: a futex's mapping, a socket's address.
#[derive(Default)]
pub struct Names {
    futexes: HashMap<(i32, u64), String>,
    sockets: HashMap<String, String>,
}

impl Names {
    /// A pipe or a socket that `fd` of `tid` reads from, named; `None` for anything else (a
    /// file, a terminal: reading those is not waiting for another process).
    pub fn channel(&mut self, tid: i32, tgid: i32, fd: i32) -> Option<String> {
        let link = fd_link(tid, fd)?;
        if link.starts_with("pipe:") {
            return Some(link);
        }
        if let Some(inode) = link
            .strip_prefix("socket:[")
            .and_then(|rest| rest.strip_suffix(']'))
        {
            if let Some(name) = self.sockets.get(inode) {
                return Some(name.clone());
            }
            let name = socket_address(tgid, fd).unwrap_or_else(|| link.clone());
            self.sockets.insert(inode.to_string(), name.clone());
            return Some(name);
        }
        None
    }

    /// A futex word: `/dev/shm/sem.mp-x1y2` (+ offset) when it lies in a shared file there,
    /// else its address, `futex 0x7f3a…`.
    pub fn futex(&mut self, tgid: i32, address: u64) -> String {
        if let Some(name) = self.futexes.get(&(tgid, address)) {
            return name.clone();
        }
        let name = shared_file_at(tgid, address).unwrap_or_else(|| format!("{address:#x}"));
        self.futexes.insert((tgid, address), name.clone());
        name
    }

    /// After an `exec`, the process's addresses mean something else.
    pub fn forget_process(&mut self, tgid: i32) {
        self.futexes.retain(|(pid, _), _| *pid != tgid);
    }
}

/// The file under `/dev/shm` mapped at `address` in `tgid`, with the offset into it.
fn shared_file_at(tgid: i32, address: u64) -> Option<String> {
    let maps = fs::read_to_string(format!("/proc/{tgid}/maps")).ok()?;
    for line in maps.lines() {
        let mut fields = line.split_whitespace();
        let range = fields.next()?;
        let (start, end) = range.split_once('-')?;
        let start = u64::from_str_radix(start, 16).ok()?;
        let end = u64::from_str_radix(end, 16).ok()?;
        if address < start || address >= end {
            continue;
        }
        let file_offset = u64::from_str_radix(fields.nth(1)?, 16).ok()?;
        let path: Vec<&str> = fields.skip(2).collect();
        let path = path.join(" ");
        if !path.starts_with("/dev/shm/") {
            return None;
        }
        let offset = address - start + file_offset;
        return Some(match offset {
            0 => path,
            _ => format!("{path}+{offset}"),
        });
    }
    None
}

/// A socket's addresses, asked of the socket itself: the tracer takes a copy of the tracee's
/// descriptor (`pidfd_getfd`, which a tracer may do) and asks `getsockname`/`getpeername`.
/// (Looking the inode up in `/proc/net/tcp` instead walks every TCP socket of the machine:
/// on a busy machine, milliseconds per lookup.) `127.0.0.1:8081`, `127.0.0.1:8081 ↔
/// 127.0.0.1:53412` for a connected one, `unix /tmp/listener`.
fn socket_address(tgid: i32, fd: i32) -> Option<String> {
    // SAFETY: plain system calls; every descriptor opened here is closed here.
    unsafe {
        let pidfd = libc::syscall(libc::SYS_pidfd_open, tgid, 0) as i32;
        if pidfd < 0 {
            return None;
        }
        let copy = libc::syscall(libc::SYS_pidfd_getfd, pidfd, fd, 0) as i32;
        libc::close(pidfd);
        if copy < 0 {
            return None;
        }
        let local = asked(copy, libc::getsockname);
        let peer = asked(copy, libc::getpeername);
        libc::close(copy);
        match (local, peer) {
            (Some(local), Some(peer)) if !local.starts_with("unix") => {
                Some(format!("{local} ↔ {peer}"))
            }
            (Some(local), _) if local != "unix" => Some(local),
            (_, Some(peer)) => Some(peer),
            _ => None,
        }
    }
}

type AddressCall = unsafe extern "C" fn(i32, *mut libc::sockaddr, *mut libc::socklen_t) -> i32;

/// What `getsockname` or `getpeername` says of socket `fd`, described.
fn asked(fd: i32, call: AddressCall) -> Option<String> {
    // SAFETY: the kernel writes at most `len` bytes into `storage`.
    unsafe {
        let mut storage: libc::sockaddr_storage = std::mem::zeroed();
        let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        if call(
            fd,
            (&mut storage as *mut libc::sockaddr_storage).cast(),
            &mut len,
        ) != 0
        {
            return None;
        }
        let bytes = std::slice::from_raw_parts(
            (&storage as *const libc::sockaddr_storage).cast::<u8>(),
            (len as usize).min(std::mem::size_of::<libc::sockaddr_storage>()),
        );
        describe_socket_address(bytes)
    }
}

/// A `struct sockaddr` (IPv4, IPv6, or a Unix path, `@name` when abstract) as people write
/// it; `unix` alone for an unnamed Unix socket.
fn describe_socket_address(bytes: &[u8]) -> Option<String> {
    let family = u16::from_ne_bytes(bytes.get(0..2)?.try_into().ok()?) as i32;
    match family {
        libc::AF_INET => {
            let port = u16::from_be_bytes(bytes.get(2..4)?.try_into().ok()?);
            let ip: [u8; 4] = bytes.get(4..8)?.try_into().ok()?;
            Some(format!("{}:{port}", std::net::Ipv4Addr::from(ip)))
        }
        libc::AF_INET6 => {
            let port = u16::from_be_bytes(bytes.get(2..4)?.try_into().ok()?);
            let ip: [u8; 16] = bytes.get(8..24)?.try_into().ok()?;
            let ip = std::net::Ipv6Addr::from(ip);
            Some(match ip.to_ipv4_mapped() {
                Some(v4) => format!("{v4}:{port}"),
                None => format!("[{ip}]:{port}"),
            })
        }
        libc::AF_UNIX => {
            let path = bytes.get(2..).unwrap_or_default();
            match path.first() {
                None | Some(0) if path.len() <= 1 => Some("unix".to_string()),
                Some(0) => Some(format!("unix @{}", String::from_utf8_lossy(&path[1..]))),
                _ => {
                    let end = path.iter().position(|&b| b == 0).unwrap_or(path.len());
                    Some(format!("unix {}", String::from_utf8_lossy(&path[..end])))
                }
            }
        }
        _ => None,
    }
}

/// The address a `connect` asks for, from its `struct sockaddr`.
pub fn socket_address_in_memory(tid: i32, address: u64, len: usize) -> Option<String> {
    describe_socket_address(&read_memory(tid, address, len.min(128)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_addresses_read_as_people_write_them() {
        let mut v4 = vec![0u8; 16];
        v4[..2].copy_from_slice(&(libc::AF_INET as u16).to_ne_bytes());
        v4[2..4].copy_from_slice(&8081u16.to_be_bytes());
        v4[4..8].copy_from_slice(&[127, 0, 0, 1]);
        assert_eq!(
            describe_socket_address(&v4).as_deref(),
            Some("127.0.0.1:8081")
        );
        let mut unix = (libc::AF_UNIX as u16).to_ne_bytes().to_vec();
        unix.extend_from_slice(b"/tmp/listener\0");
        assert_eq!(
            describe_socket_address(&unix).as_deref(),
            Some("unix /tmp/listener")
        );
        let unnamed = (libc::AF_UNIX as u16).to_ne_bytes().to_vec();
        assert_eq!(describe_socket_address(&unnamed).as_deref(), Some("unix"));
    }
}
