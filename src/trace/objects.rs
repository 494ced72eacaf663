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
    pub fn channel(&mut self, tid: i32, fd: i32) -> Option<String> {
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
            let name = socket_address(tid, inode).unwrap_or_else(|| link.clone());
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

/// A socket's address from the kernel's tables (`/proc/<pid>/net/tcp`, `tcp6`, `unix`):
/// `127.0.0.1:8081`, or `127.0.0.1:8081 ↔ 127.0.0.1:53412` for a connected one.
fn socket_address(tid: i32, inode: &str) -> Option<String> {
    for table in ["tcp", "tcp6", "udp", "udp6"] {
        let Ok(text) = fs::read_to_string(format!("/proc/{tid}/net/{table}")) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.get(9) != Some(&inode) {
                continue;
            }
            let local = address_of(fields.get(1)?)?;
            let remote = address_of(fields.get(2)?)?;
            return Some(match remote.ends_with(":0") {
                true => local,
                false => format!("{local} ↔ {remote}"),
            });
        }
    }
    let text = fs::read_to_string(format!("/proc/{tid}/net/unix")).ok()?;
    for line in text.lines().skip(1) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.get(6) == Some(&inode) {
            return Some(match fields.get(7) {
                Some(path) => format!("unix {path}"),
                None => format!("unix socket:[{inode}]"),
            });
        }
    }
    None
}

/// `0100007F:1F91` (as /proc/net/tcp writes it) → `127.0.0.1:8081`.
fn address_of(hex: &str) -> Option<String> {
    let (ip, port) = hex.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    if ip.len() == 8 {
        let ip = u32::from_str_radix(ip, 16).ok()?;
        let ip = std::net::Ipv4Addr::from(ip.swap_bytes());
        return Some(format!("{ip}:{port}"));
    }
    let mut bytes = [0u8; 16];
    for (i, chunk) in bytes.chunks_mut(4).enumerate() {
        let word = u32::from_str_radix(ip.get(i * 8..i * 8 + 8)?, 16).ok()?;
        chunk.copy_from_slice(&word.to_ne_bytes());
    }
    let ip = std::net::Ipv6Addr::from(bytes);
    Some(match ip.to_ipv4_mapped() {
        Some(v4) => format!("{v4}:{port}"),
        None => format!("[{ip}]:{port}"),
    })
}

/// The address a `connect` asks for, from its `struct sockaddr` (IPv4, IPv6, or a Unix path).
pub fn socket_address_in_memory(tid: i32, address: u64, len: usize) -> Option<String> {
    let bytes = read_memory(tid, address, len.min(110));
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
            Some(format!("[{}]:{port}", std::net::Ipv6Addr::from(ip)))
        }
        libc::AF_UNIX => {
            let path = bytes.get(2..)?;
            let end = path.iter().position(|&b| b == 0).unwrap_or(path.len());
            Some(format!("unix {}", String::from_utf8_lossy(&path[..end])))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_socket_addresses_read_as_people_write_them() {
        assert_eq!(
            address_of("0100007F:1F91").as_deref(),
            Some("127.0.0.1:8081")
        );
        assert_eq!(
            address_of("0000000000000000FFFF00000100007F:1F91").as_deref(),
            Some("127.0.0.1:8081")
        );
    }
}
