//! The job object and its Win32 calls.

use std::{
    io,
    os::windows::io::{AsRawHandle, FromRawHandle, OwnedHandle, RawHandle},
    ptr,
};

use windows_sys::Win32::{
    Foundation::HANDLE,
    System::{
        JobObjects::{
            AssignProcessToJobObject, CreateJobObjectW, JOB_OBJECT_LIMIT_ACTIVE_PROCESS,
            JOB_OBJECT_LIMIT_DIE_ON_UNHANDLED_EXCEPTION, JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE,
            JOB_OBJECT_LIMIT_PROCESS_MEMORY, JOB_OBJECT_UILIMIT_DESKTOP,
            JOB_OBJECT_UILIMIT_DISPLAYSETTINGS, JOB_OBJECT_UILIMIT_EXITWINDOWS,
            JOB_OBJECT_UILIMIT_GLOBALATOMS, JOB_OBJECT_UILIMIT_HANDLES,
            JOB_OBJECT_UILIMIT_READCLIPBOARD, JOB_OBJECT_UILIMIT_SYSTEMPARAMETERS,
            JOB_OBJECT_UILIMIT_WRITECLIPBOARD, JOBOBJECT_BASIC_UI_RESTRICTIONS,
            JOBOBJECT_EXTENDED_LIMIT_INFORMATION, JobObjectBasicUIRestrictions,
            JobObjectExtendedLimitInformation, QueryInformationJobObject, SetInformationJobObject,
            TerminateJobObject,
        },
        Threading,
    },
};

/// `CreateProcess` flag: the worker gets no console window of its own.
pub const CREATE_NO_WINDOW: u32 = Threading::CREATE_NO_WINDOW;

/// The limit flags every worker job sets.
const LIMIT_FLAGS: u32 = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE
    | JOB_OBJECT_LIMIT_PROCESS_MEMORY
    | JOB_OBJECT_LIMIT_ACTIVE_PROCESS
    | JOB_OBJECT_LIMIT_DIE_ON_UNHANDLED_EXCEPTION;

/// The UI restrictions every worker job sets (all of them).
const UI_RESTRICTIONS: u32 = JOB_OBJECT_UILIMIT_DESKTOP
    | JOB_OBJECT_UILIMIT_DISPLAYSETTINGS
    | JOB_OBJECT_UILIMIT_EXITWINDOWS
    | JOB_OBJECT_UILIMIT_GLOBALATOMS
    | JOB_OBJECT_UILIMIT_HANDLES
    | JOB_OBJECT_UILIMIT_READCLIPBOARD
    | JOB_OBJECT_UILIMIT_SYSTEMPARAMETERS
    | JOB_OBJECT_UILIMIT_WRITECLIPBOARD;

/// A job object holding one sandbox worker. Dropping it closes the handle, which kills the
/// worker (kill-on-job-close).
#[derive(Debug)]
pub struct WorkerJob {
    handle: OwnedHandle,
    process_memory_bytes: usize,
    /// What the system accepted from `SetInformationJobObject` so far.
    accepted: JobReport,
}

/// A job's configuration: as the system reports it ([`WorkerJob::query`]) or as the system
/// accepted it ([`WorkerJob::accepted`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobReport {
    /// Whether kill-on-job-close is set.
    pub kill_on_close: bool,
    /// Whether die-on-unhandled-exception is set.
    pub die_on_unhandled_exception: bool,
    /// The per-process committed-memory limit, if its flag is set (bytes).
    pub process_memory_bytes: Option<u64>,
    /// The active-process limit, if its flag is set.
    pub active_processes: Option<u32>,
    /// Whether every UI restriction is set.
    pub all_ui_restrictions: bool,
    /// The raw limit flags (`JOB_OBJECT_LIMIT_*`).
    pub limit_flags: u32,
    /// The raw UI restriction flags (`JOB_OBJECT_UILIMIT_*`).
    pub ui_restrictions: u32,
}

impl JobReport {
    /// The report of raw limit flags, limits and UI restriction flags.
    fn new(limits: &JOBOBJECT_EXTENDED_LIMIT_INFORMATION, ui_restrictions: u32) -> Self {
        let flags = limits.BasicLimitInformation.LimitFlags;
        Self {
            kill_on_close: flags & JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE != 0,
            die_on_unhandled_exception: flags & JOB_OBJECT_LIMIT_DIE_ON_UNHANDLED_EXCEPTION != 0,
            process_memory_bytes: (flags & JOB_OBJECT_LIMIT_PROCESS_MEMORY != 0)
                .then(|| u64::try_from(limits.ProcessMemoryLimit).unwrap_or(u64::MAX)),
            active_processes: (flags & JOB_OBJECT_LIMIT_ACTIVE_PROCESS != 0)
                .then_some(limits.BasicLimitInformation.ActiveProcessLimit),
            all_ui_restrictions: ui_restrictions & UI_RESTRICTIONS == UI_RESTRICTIONS,
            limit_flags: flags,
            ui_restrictions,
        }
    }
}

impl WorkerJob {
    /// A new unnamed job with every worker limit set and a per-process committed-memory limit
    /// of `process_memory_bytes`.
    pub fn new(process_memory_bytes: u64) -> io::Result<Self> {
        // SAFETY: both pointers may be null (default security, unnamed job); the call has no
        // other preconditions. A null return is an error, checked below.
        let raw: HANDLE = unsafe { CreateJobObjectW(ptr::null(), ptr::null()) };
        if raw.is_null() {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `raw` is a fresh, valid job handle that nothing else owns; `OwnedHandle`
        // closes it exactly once.
        let handle = unsafe { OwnedHandle::from_raw_handle(raw.cast()) };
        let mut job = Self {
            handle,
            process_memory_bytes: 0,
            accepted: JobReport::new(&zeroed_extended(), 0),
        };
        job.set_process_memory(process_memory_bytes)?;
        let ui = JOBOBJECT_BASIC_UI_RESTRICTIONS {
            UIRestrictionsClass: UI_RESTRICTIONS,
        };
        // SAFETY: the handle is a valid job handle owned by `job`; the buffer is a live
        // `JOBOBJECT_BASIC_UI_RESTRICTIONS` and the length passed is its size.
        let ok = unsafe {
            SetInformationJobObject(
                job.raw(),
                JobObjectBasicUIRestrictions,
                (&raw const ui).cast(),
                size_of_u32::<JOBOBJECT_BASIC_UI_RESTRICTIONS>(),
            )
        };
        if ok == 0 {
            return Err(io::Error::last_os_error());
        }
        job.accepted = JobReport {
            all_ui_restrictions: true,
            ui_restrictions: UI_RESTRICTIONS,
            ..job.accepted
        };
        Ok(job)
    }

    /// Sets the limit flags again, with a per-process committed-memory limit of `bytes`
    /// (a run may bring its own memory limit).
    pub fn set_process_memory(&mut self, bytes: u64) -> io::Result<()> {
        let bytes = usize::try_from(bytes).unwrap_or(usize::MAX);
        if bytes == self.process_memory_bytes {
            return Ok(());
        }
        let mut info = zeroed_extended();
        info.BasicLimitInformation.LimitFlags = LIMIT_FLAGS;
        info.BasicLimitInformation.ActiveProcessLimit = 1;
        info.ProcessMemoryLimit = bytes;
        // SAFETY: the handle is a valid job handle owned by `self`; the buffer is a live
        // `JOBOBJECT_EXTENDED_LIMIT_INFORMATION` and the length passed is its size.
        let ok = unsafe {
            SetInformationJobObject(
                self.raw(),
                JobObjectExtendedLimitInformation,
                (&raw const info).cast(),
                size_of_u32::<JOBOBJECT_EXTENDED_LIMIT_INFORMATION>(),
            )
        };
        if ok == 0 {
            return Err(io::Error::last_os_error());
        }
        self.process_memory_bytes = bytes;
        self.accepted = JobReport {
            all_ui_restrictions: self.accepted.all_ui_restrictions,
            ui_restrictions: self.accepted.ui_restrictions,
            ..JobReport::new(&info, 0)
        };
        Ok(())
    }

    /// Puts a process into the job. `process` must be a handle of a process this program
    /// started and still holds (e.g. `tokio::process::Child::raw_handle`); Windows checks the
    /// handle, so a wrong one gives an error, not undefined behaviour.
    pub fn assign(&self, process: RawHandle) -> io::Result<()> {
        // SAFETY: both are plain handle values; the job handle is valid and owned by `self`,
        // and the kernel validates the process handle (an invalid one fails the call).
        let ok = unsafe { AssignProcessToJobObject(self.raw(), process.cast()) };
        if ok == 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Ends every process in the job with `exit_code` (`TerminateProcess` on each).
    pub fn terminate(&self, exit_code: u32) -> io::Result<()> {
        // SAFETY: the job handle is valid and owned by `self`.
        let ok = unsafe { TerminateJobObject(self.raw(), exit_code) };
        if ok == 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Reads the job's limits and UI restrictions back from the system.
    pub fn query(&self) -> io::Result<JobReport> {
        let mut info = zeroed_extended();
        // SAFETY: the job handle is valid and owned by `self`; the buffer is a live, writable
        // `JOBOBJECT_EXTENDED_LIMIT_INFORMATION` of the length passed; the returned-length
        // pointer may be null.
        let ok = unsafe {
            QueryInformationJobObject(
                self.raw(),
                JobObjectExtendedLimitInformation,
                (&raw mut info).cast(),
                size_of_u32::<JOBOBJECT_EXTENDED_LIMIT_INFORMATION>(),
                ptr::null_mut(),
            )
        };
        if ok == 0 {
            return Err(io::Error::last_os_error());
        }
        let mut ui = JOBOBJECT_BASIC_UI_RESTRICTIONS {
            UIRestrictionsClass: 0,
        };
        // SAFETY: as above, with a live, writable `JOBOBJECT_BASIC_UI_RESTRICTIONS`.
        let ok = unsafe {
            QueryInformationJobObject(
                self.raw(),
                JobObjectBasicUIRestrictions,
                (&raw mut ui).cast(),
                size_of_u32::<JOBOBJECT_BASIC_UI_RESTRICTIONS>(),
                ptr::null_mut(),
            )
        };
        if ok == 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(JobReport::new(&info, ui.UIRestrictionsClass))
    }

    /// The configuration the system accepted from this job's `SetInformationJobObject` calls
    /// (each call succeeded). Wine 8.0 accepts every limit but cannot report them back
    /// ([`Self::query`] fails there), so its tests check this.
    pub fn accepted(&self) -> JobReport {
        self.accepted
    }

    /// The per-process memory limit this job was last given (bytes).
    pub fn process_memory_bytes(&self) -> u64 {
        u64::try_from(self.process_memory_bytes).unwrap_or(u64::MAX)
    }

    fn raw(&self) -> HANDLE {
        self.handle.as_raw_handle().cast()
    }
}

fn zeroed_extended() -> JOBOBJECT_EXTENDED_LIMIT_INFORMATION {
    // SAFETY: the struct is plain old data (integers only); all-zero is a valid value.
    unsafe { std::mem::zeroed() }
}

fn size_of_u32<T>() -> u32 {
    u32::try_from(size_of::<T>()).unwrap_or(u32::MAX)
}
