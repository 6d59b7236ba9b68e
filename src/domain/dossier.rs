//! The life of a dossier: its statuses, its tasks, and the events that move them.
//!
//! A dossier's status is the fold of its events (`fold`), starting at `requested`.
//! `apply` is the one place that says which event may happen in which status; the
//! task-level machine (`apply_task`, `apply_task_action`) guards each courier stop.
//! A rejected event changes nothing and comes back as a `TransitionError` (HTTP 409).
//!
//! Choices worth knowing:
//! - **Legs.** `service` and `return_method` decide the legs (`Ctx`): a send leg
//!   (pickup + dropoff) unless `service = return`; a home return leg (collect +
//!   deliver) only when `service != send` and `return_method = home`. Events of a leg
//!   the dossier does not have are refused whatever the status.
//! - **`service = return`.** The citizen lodged the dossier themselves; Buuta only
//!   brings the result home. The dossier starts at `requested` like any other; the
//!   clerk's (or the one-stop system's) `received` links it and moves it to
//!   `at_agency`, or `result_ready` arrives directly. It may be cancelled until the
//!   courier has collected the result.
//! - **Cancel** only before pickup (`requested`, `scheduled` of the first pickup).
//! - **Pickup attempts.** Each failed attempt carries its 1-based number on the task;
//!   the attempt that reaches `max_pickup_attempts` cancels the dossier.
//! - **Supplement.** `supplement_required` goes back to the citizen; the agency keeps
//!   the dossier. The new pickup of the missing documents runs while the status stays
//!   `supplement_required` (so it cannot be mistaken for a cancellable first pickup),
//!   then `picked_up` → (`in_transit`) → `at_agency` again. Its failures never cancel;
//!   the citizen may also bring the documents to the desk (`received`), or the agency
//!   may close the case (`result_ready`). The caller cancels the open tasks then.
//! - **Delivery attempts.** Up to `max_delivery_attempts` failures; after the last the
//!   result is held at the post office (the caller records `held_at_post_office` when
//!   `AttemptLimits::allows_retry` turns false; status unchanged) and a further
//!   failure is refused. Handing it over at the post-office counter is a
//!   `delivered` with the receiver's identity as proof.
//! - **Counter.** Without a home return leg the dossier waits at `result_ready` and
//!   ends with `handed_over_at_counter`.
//! - `handed_over` (courier) and `received` (clerk) both mean "lodged at the agency";
//!   either may come first (the courier app syncs late), the second is a no-op.
//! - **Assignments are plans.** `assigned`/`unassigned` change the status only for the
//!   first pickup (`requested` ⇄ `scheduled`). When a picked-up dossier physically
//!   changes hands (another courier, an overnight stay at the post office) the caller
//!   records `transferred`, which makes it `in_transit`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::domain::time_window::TimeWindow;

/// A wire name that matches no value of an enum (query strings, database columns).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} `{value}`")]
pub struct UnknownValue {
    /// What was being read, e.g. "dossier status".
    pub kind: &'static str,
    /// The text that matched nothing.
    pub value: String,
}

/// Declares a closed set of snake_case names with a Vietnamese label each.
macro_rules! string_enum {
    (
        $(#[$meta:meta])*
        $name:ident ($what:literal) {
            $( $(#[$vmeta:meta])* $variant:ident = $wire:literal, $label:literal; )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name {
            $( $(#[$vmeta])* #[serde(rename = $wire)] $variant, )+
        }

        impl $name {
            /// Every value in declaration order, for tables, filters and exhaustive tests.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The snake_case name used in JSON, URLs and storage.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $wire,)+ }
            }

            /// The Vietnamese label shown to citizens and staff.
            pub fn label_vi(self) -> &'static str {
                match self { $(Self::$variant => $label,)+ }
            }

            /// Reads a snake_case name back.
            pub fn parse(s: &str) -> Result<Self, UnknownValue> {
                match s {
                    $($wire => Ok(Self::$variant),)+
                    _ => Err(UnknownValue { kind: $what, value: s.to_owned() }),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownValue;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }
    };
}

string_enum! {
    /// Where a dossier stands; what the public tracking page shows.
    DossierStatus ("dossier status") {
        /// Taken by the hotline, no courier yet.
        Requested = "requested", "Đã tiếp nhận yêu cầu";
        /// A courier is assigned to the first pickup.
        Scheduled = "scheduled", "Đã lên lịch lấy hồ sơ";
        /// Sealed and in the courier's hands.
        PickedUp = "picked_up", "Đã lấy hồ sơ";
        /// Moving through a post office or between couriers before the agency.
        InTransit = "in_transit", "Đang vận chuyển";
        /// Lodged at the agency, being processed.
        AtAgency = "at_agency", "Đã nộp tại cơ quan";
        /// The agency wants more documents from the citizen.
        SupplementRequired = "supplement_required", "Cần bổ sung hồ sơ";
        /// The agency has decided; the result waits to be collected.
        ResultReady = "result_ready", "Đã có kết quả";
        /// The result is with the postal service on its way home (or held at the post office).
        OutForDelivery = "out_for_delivery", "Đang giao kết quả";
        /// The result reached the citizen.
        Completed = "completed", "Hoàn thành";
        /// Called off before pickup, or after too many failed pickups.
        Cancelled = "cancelled", "Đã hủy";
    }
}

impl DossierStatus {
    /// Closed dossiers accept no event at all.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Completed | Self::Cancelled)
    }
}

string_enum! {
    /// Which legs the citizen asked for (Decision 45/2016/QĐ-TTg, Art. 5).
    Service ("service") {
        /// Carry the dossier to the agency only.
        Send = "send", "Gửi hồ sơ";
        /// Bring the result home only; the citizen lodged the dossier themselves.
        Return = "return", "Nhận kết quả";
        /// Both legs.
        Both = "both", "Gửi hồ sơ và nhận kết quả";
    }
}

string_enum! {
    /// How the result reaches the citizen.
    ReturnMethod ("return method") {
        /// A courier brings it to the door.
        Home = "home", "Trả kết quả tại nhà";
        /// The citizen fetches it at the agency's counter.
        Counter = "counter", "Nhận kết quả tại quầy";
    }
}

string_enum! {
    /// One kind of courier stop for a dossier.
    TaskKind ("task kind") {
        /// At the citizen's door, to take the dossier.
        Pickup = "pickup", "Lấy hồ sơ tại nhà";
        /// At the agency, to lodge it.
        Dropoff = "dropoff", "Nộp hồ sơ tại cơ quan";
        /// At the agency, to take the result.
        Collect = "collect", "Nhận kết quả tại cơ quan";
        /// At the citizen's door, to hand the result over.
        Deliver = "deliver", "Phát kết quả tại nhà";
    }
}

string_enum! {
    /// Where one task stands.
    TaskStatus ("task status") {
        /// Waiting for a courier.
        Unassigned = "unassigned", "Chưa phân công";
        /// On a courier's route.
        Assigned = "assigned", "Đã phân công";
        /// The courier has arrived.
        InProgress = "in_progress", "Đang thực hiện";
        /// Done.
        Done = "done", "Đã hoàn thành";
        /// This attempt failed; assign again to retry.
        Failed = "failed", "Không thành công";
        /// No longer needed.
        Cancelled = "cancelled", "Đã hủy";
    }
}

string_enum! {
    /// Why a courier could not complete a stop.
    FailReason ("failure reason") {
        /// Nobody answered.
        NotHome = "not_home", "Không có người ở nhà";
        /// The address could not be found.
        WrongAddress = "wrong_address", "Sai địa chỉ";
        /// The citizen refused.
        Refused = "refused", "Người dân từ chối";
        /// Documents were missing and could not be completed on the spot.
        IncompleteDocuments = "incomplete_documents", "Hồ sơ chưa đầy đủ";
        /// Anything else, explained in the note.
        Other = "other", "Lý do khác";
    }
}

string_enum! {
    /// The agency's decision, which travels home either way.
    Outcome ("outcome") {
        /// Granted.
        Approved = "approved", "Được chấp thuận";
        /// Refused, with the agency's reasons.
        Rejected = "rejected", "Bị từ chối";
    }
}

string_enum! {
    /// The `type` of a courier's event on a task (`POST /tasks/{id}/events`).
    TaskEventType ("task event type") {
        /// At the stop; optional.
        Arrived = "arrived", "Đã đến nơi";
        /// Dossier taken at the door (pickup only).
        PickedUp = "picked_up", "Đã lấy hồ sơ";
        /// The stop could not be completed.
        Failed = "failed", "Không thành công";
        /// Dossier lodged at the agency (dropoff only).
        HandedOver = "handed_over", "Đã bàn giao cho cơ quan";
        /// Result taken at the agency (collect only).
        Collected = "collected", "Đã nhận kết quả";
        /// Result handed to the citizen (deliver only).
        Delivered = "delivered", "Đã phát kết quả";
    }
}

string_enum! {
    /// What staff do to a task, as opposed to what the courier reports.
    TaskAction ("task action") {
        /// Put on a courier's route (also a reassignment, or a retry after a failure).
        Assign = "assign", "Phân công";
        /// Take off the route, back to the pool.
        Unassign = "unassign", "Bỏ phân công";
        /// No longer needed.
        Cancel = "cancel", "Hủy";
    }
}

impl Service {
    /// Whether a courier picks the dossier up and lodges it.
    pub fn has_send_leg(self) -> bool {
        self != Self::Return
    }

    /// Whether a courier collects the result and brings it home.
    pub fn result_goes_home(self, method: ReturnMethod) -> bool {
        self != Self::Send && method == ReturnMethod::Home
    }
}

/// Why a service choice was refused at intake.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ServiceChoiceError {
    /// `service = return` with `return_method = counter` leaves the courier nothing to carry.
    #[error("service `return` needs return_method `home`: otherwise there is nothing to carry")]
    NothingToCarry,
}

/// How many failed attempts a courier may make before the dossier gives up (configuration).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AttemptLimits {
    /// The pickup attempt with this number that fails cancels the dossier.
    pub max_pickup_attempts: u32,
    /// After this many failed deliveries the result is held at the post office.
    pub max_delivery_attempts: u32,
}

impl Default for AttemptLimits {
    fn default() -> Self {
        Self {
            max_pickup_attempts: 3,
            max_delivery_attempts: 3,
        }
    }
}

impl AttemptLimits {
    /// Whether a task that failed `failed_attempts` times may be assigned again.
    pub fn allows_retry(&self, kind: TaskKind, failed_attempts: u32) -> bool {
        match kind {
            TaskKind::Pickup => failed_attempts < self.max_pickup_attempts,
            TaskKind::Deliver => failed_attempts < self.max_delivery_attempts,
            TaskKind::Dropoff | TaskKind::Collect => true,
        }
    }
}

/// The dossier facts a transition depends on besides its status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ctx {
    service: Service,
    return_method: ReturnMethod,
    limits: AttemptLimits,
}

impl Ctx {
    /// Checks the service choice once, so every later transition can trust it.
    pub fn new(
        service: Service,
        return_method: ReturnMethod,
        limits: AttemptLimits,
    ) -> Result<Self, ServiceChoiceError> {
        if service == Service::Return && return_method == ReturnMethod::Counter {
            return Err(ServiceChoiceError::NothingToCarry);
        }
        Ok(Self {
            service,
            return_method,
            limits,
        })
    }

    /// The legs asked for.
    pub fn service(&self) -> Service {
        self.service
    }

    /// Home or counter.
    pub fn return_method(&self) -> ReturnMethod {
        self.return_method
    }

    /// The attempt limits in force.
    pub fn limits(&self) -> AttemptLimits {
        self.limits
    }

    /// Whether pickup and dropoff happen at all.
    pub fn has_send_leg(&self) -> bool {
        self.service.has_send_leg()
    }

    /// Whether collect and deliver happen at all.
    pub fn result_goes_home(&self) -> bool {
        self.service.result_goes_home(self.return_method)
    }
}

/// Everything that can happen to a dossier, as recorded in its event log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum DossierEvent {
    /// A courier was put on one of the dossier's tasks (or it was reassigned).
    Assigned {
        /// Which task.
        task: TaskKind,
    },
    /// A task went back to the pool.
    Unassigned {
        /// Which task.
        task: TaskKind,
    },
    /// The pickup was given a new window.
    Rescheduled {
        /// The new window.
        window: TimeWindow,
    },
    /// Called off by an operator or dispatcher.
    Cancelled {
        /// As told by the citizen.
        reason: String,
    },
    /// The courier reached a stop.
    Arrived {
        /// Which stop.
        task: TaskKind,
    },
    /// Sealed and taken at the door.
    PickedUp,
    /// A stop could not be completed.
    Failed {
        /// Which stop.
        task: TaskKind,
        /// Why.
        reason: FailReason,
        /// 1-based number of this failed attempt on the task.
        attempt: u32,
    },
    /// Passed on through a post office or to another courier before the agency.
    Transferred,
    /// The courier lodged the dossier at the agency.
    HandedOver,
    /// The clerk (or the one-stop system) registered the dossier at the agency.
    Received,
    /// The agency asked for more documents.
    SupplementRequired,
    /// The agency decided.
    ResultReady {
        /// Approved or rejected.
        outcome: Outcome,
    },
    /// The courier took the result at the agency.
    Collected,
    /// The result reached the citizen (at the door or at the post-office counter).
    Delivered,
    /// Home delivery gave up; the result waits at the post office.
    HeldAtPostOffice,
    /// The citizen took the result at the agency's counter.
    HandedOverAtCounter,
}

impl DossierEvent {
    /// The snake_case `type`, as in the stored JSON and error messages.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Assigned { .. } => "assigned",
            Self::Unassigned { .. } => "unassigned",
            Self::Rescheduled { .. } => "rescheduled",
            Self::Cancelled { .. } => "cancelled",
            Self::Arrived { .. } => "arrived",
            Self::PickedUp => "picked_up",
            Self::Failed { .. } => "failed",
            Self::Transferred => "transferred",
            Self::HandedOver => "handed_over",
            Self::Received => "received",
            Self::SupplementRequired => "supplement_required",
            Self::ResultReady { .. } => "result_ready",
            Self::Collected => "collected",
            Self::Delivered => "delivered",
            Self::HeldAtPostOffice => "held_at_post_office",
            Self::HandedOverAtCounter => "handed_over_at_counter",
        }
    }

    /// The task the event belongs to, if it belongs to one; decides the leg it needs.
    pub fn task(&self) -> Option<TaskKind> {
        match self {
            Self::Assigned { task }
            | Self::Unassigned { task }
            | Self::Arrived { task }
            | Self::Failed { task, .. } => Some(*task),
            Self::Rescheduled { .. } | Self::PickedUp => Some(TaskKind::Pickup),
            Self::Transferred | Self::HandedOver => Some(TaskKind::Dropoff),
            Self::Collected => Some(TaskKind::Collect),
            Self::Delivered | Self::HeldAtPostOffice => Some(TaskKind::Deliver),
            Self::Cancelled { .. }
            | Self::Received
            | Self::SupplementRequired
            | Self::ResultReady { .. }
            | Self::HandedOverAtCounter => None,
        }
    }
}

/// Why an event was refused; each reads as the end of a 409 message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RejectReason {
    /// Completed or cancelled.
    #[error("the dossier is closed")]
    Closed,
    /// The documents have left the citizen's home.
    #[error("cannot cancel after pickup")]
    CancelAfterPickup,
    /// The result has left the agency.
    #[error("cannot cancel once the courier has collected the result")]
    CancelAfterCollection,
    /// `service = return`.
    #[error("the citizen lodged the dossier themselves (service = return): there is no pickup or drop-off")]
    NoSendLeg,
    /// `service = send` or `return_method = counter`.
    #[error("the result does not go home (service = send or return_method = counter)")]
    NoReturnLeg,
    /// Counter hand-over of a result that goes home.
    #[error("the result goes home by courier, not over the counter")]
    ResultGoesHome,
    /// Courier event on a pickup nobody is assigned to.
    #[error("no courier is assigned to the pickup yet")]
    NoCourier,
    /// The dossier or result is physically with a courier.
    #[error("the documents are in a courier's hands; reassign the task instead")]
    WithCourier,
    /// Attempt numbers start at 1.
    #[error("attempt numbers start at 1")]
    BadAttempt,
    /// More failures than the limit allows.
    #[error("all {0} attempts are used up")]
    AttemptsExhausted(u32),
    /// Task event of another kind of stop (e.g. `picked_up` on a dropoff).
    #[error("the event does not fit a {0} task")]
    WrongTaskKind(TaskKind),
    /// Task without a courier.
    #[error("the task has no courier")]
    TaskUnassigned,
    /// Task done, failed or cancelled.
    #[error("the task is already closed")]
    TaskClosed,
    /// `arrived` twice.
    #[error("the courier has already arrived")]
    AlreadyArrived,
    /// The courier is at the stop.
    #[error("the courier is already at the stop")]
    TaskStarted,
    /// Anything else out of order.
    #[error("this does not happen at this stage")]
    OutOfOrder,
}

impl RejectReason {
    /// The reason in Vietnamese, for people (409 details).
    pub fn vi(&self) -> String {
        match self {
            Self::Closed => "hồ sơ đã kết thúc".into(),
            Self::CancelAfterPickup => "không thể hủy sau khi bưu tá đã lấy hồ sơ".into(),
            Self::CancelAfterCollection => "không thể hủy khi bưu tá đã nhận kết quả".into(),
            Self::NoSendLeg => {
                "người dân tự nộp hồ sơ (chỉ nhận kết quả): không có lượt lấy và nộp hồ sơ".into()
            }
            Self::NoReturnLeg => "kết quả không trả tại nhà".into(),
            Self::ResultGoesHome => "kết quả được bưu tá trả tại nhà, không trả tại quầy".into(),
            Self::NoCourier => "chưa phân công bưu tá lấy hồ sơ".into(),
            Self::WithCourier => "hồ sơ đang ở trong tay bưu tá; hãy phân công lại nhiệm vụ".into(),
            Self::BadAttempt => "số lần thực hiện bắt đầu từ 1".into(),
            Self::AttemptsExhausted(n) => format!("đã dùng hết {n} lần thực hiện"),
            Self::WrongTaskKind(k) => {
                format!("sự kiện không phù hợp với nhiệm vụ “{}”", k.label_vi())
            }
            Self::TaskUnassigned => "nhiệm vụ chưa có bưu tá".into(),
            Self::TaskClosed => "nhiệm vụ đã kết thúc".into(),
            Self::AlreadyArrived => "bưu tá đã báo đến nơi rồi".into(),
            Self::TaskStarted => "bưu tá đang ở điểm dừng".into(),
            Self::OutOfOrder => "việc này không diễn ra ở bước hiện tại".into(),
        }
    }
}

impl DossierEvent {
    /// What happened, in Vietnamese.
    pub fn label_vi(&self) -> &'static str {
        match self {
            Self::Assigned { .. } => "phân công bưu tá",
            Self::Unassigned { .. } => "bỏ phân công",
            Self::Rescheduled { .. } => "hẹn lại giờ lấy hồ sơ",
            Self::Cancelled { .. } => "hủy hồ sơ",
            Self::Arrived { .. } => "bưu tá đến nơi",
            Self::PickedUp => "lấy hồ sơ",
            Self::Failed { .. } => "báo không thành công",
            Self::Transferred => "chuyển tiếp hồ sơ",
            Self::HandedOver => "nộp hồ sơ cho cơ quan",
            Self::Received => "tiếp nhận hồ sơ",
            Self::SupplementRequired => "yêu cầu bổ sung",
            Self::ResultReady { .. } => "báo có kết quả",
            Self::Collected => "nhận kết quả",
            Self::Delivered => "giao kết quả",
            Self::HeldAtPostOffice => "giữ kết quả tại bưu cục",
            Self::HandedOverAtCounter => "trả kết quả tại quầy",
        }
    }
}

/// A refused event: what it was, on what, in which state, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("`{event}` is not allowed when the {subject} is `{state}`: {reason}")]
pub struct TransitionError {
    /// "dossier" or "task".
    pub subject: &'static str,
    /// The status the event met.
    pub state: &'static str,
    /// The event or action refused.
    pub event: &'static str,
    /// Why.
    pub reason: RejectReason,
}

/// A stored event log that does not replay; points at the first bad event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("event #{index} does not replay: {source}")]
pub struct FoldError {
    /// 0-based position of the event in the log.
    pub index: usize,
    /// Why it was refused.
    pub source: TransitionError,
}

/// The status after `event`, or why the event cannot happen now; the single rule book.
pub fn apply(
    status: DossierStatus,
    event: &DossierEvent,
    ctx: &Ctx,
) -> Result<DossierStatus, TransitionError> {
    next_status(status, event, ctx).map_err(|reason| TransitionError {
        subject: "dossier",
        state: status.as_str(),
        event: event.name(),
        reason,
    })
}

/// Replays a dossier's event log from `requested`, to rebuild or audit its status.
pub fn fold<'a>(
    events: impl IntoIterator<Item = &'a DossierEvent>,
    ctx: &Ctx,
) -> Result<DossierStatus, FoldError> {
    events
        .into_iter()
        .enumerate()
        .try_fold(DossierStatus::Requested, |status, (index, event)| {
            apply(status, event, ctx).map_err(|source| FoldError { index, source })
        })
}

/// The rule book itself, without the error's context.
fn next_status(
    status: DossierStatus,
    event: &DossierEvent,
    ctx: &Ctx,
) -> Result<DossierStatus, RejectReason> {
    use DossierEvent as E;
    use DossierStatus as S;
    use RejectReason as R;
    use TaskKind as K;

    if status.is_terminal() {
        return Err(R::Closed);
    }
    match event.task() {
        Some(K::Pickup | K::Dropoff) if !ctx.has_send_leg() => return Err(R::NoSendLeg),
        Some(K::Collect | K::Deliver) if !ctx.result_goes_home() => return Err(R::NoReturnLeg),
        _ => {}
    }
    let unchanged = Ok(status);
    match event {
        E::Assigned { task } => match (task, status) {
            (K::Pickup, S::Requested) => Ok(S::Scheduled),
            (K::Pickup, S::Scheduled | S::SupplementRequired) => unchanged,
            (K::Dropoff, S::Requested | S::Scheduled | S::SupplementRequired) => unchanged,
            // Planning only; the physical hand-over between couriers is `transferred`.
            (K::Dropoff, S::PickedUp | S::InTransit) => unchanged,
            (K::Collect, S::ResultReady) => unchanged,
            (K::Deliver, S::ResultReady | S::OutForDelivery) => unchanged,
            _ => Err(R::OutOfOrder),
        },
        E::Unassigned { task } => match (task, status) {
            (K::Pickup, S::Requested) => Err(R::NoCourier),
            (K::Pickup, S::Scheduled) => Ok(S::Requested),
            (K::Pickup | K::Dropoff, S::SupplementRequired) => unchanged,
            (K::Dropoff, S::Requested | S::Scheduled) => unchanged,
            (K::Dropoff, S::PickedUp | S::InTransit) | (K::Deliver, S::OutForDelivery) => {
                Err(R::WithCourier)
            }
            (K::Collect | K::Deliver, S::ResultReady) => unchanged,
            _ => Err(R::OutOfOrder),
        },
        E::Rescheduled { .. } => match status {
            S::Requested | S::Scheduled | S::SupplementRequired => unchanged,
            _ => Err(R::OutOfOrder),
        },
        E::Cancelled { .. } => cancel(status, ctx),
        E::Arrived { task } => match (task, status) {
            (K::Pickup, S::Requested) => Err(R::NoCourier),
            (K::Pickup, S::Scheduled | S::SupplementRequired)
            | (K::Dropoff, S::PickedUp | S::InTransit)
            | (K::Collect, S::ResultReady)
            | (K::Deliver, S::OutForDelivery) => unchanged,
            _ => Err(R::OutOfOrder),
        },
        E::PickedUp => match status {
            S::Requested => Err(R::NoCourier),
            S::Scheduled | S::SupplementRequired => Ok(S::PickedUp),
            _ => Err(R::OutOfOrder),
        },
        E::Failed { task, attempt, .. } => failed(status, *task, *attempt, &ctx.limits),
        E::Transferred => match status {
            S::PickedUp | S::InTransit => Ok(S::InTransit),
            _ => Err(R::OutOfOrder),
        },
        E::HandedOver => match status {
            S::PickedUp | S::InTransit | S::AtAgency => Ok(S::AtAgency),
            _ => Err(R::OutOfOrder),
        },
        E::Received => match status {
            S::AtAgency | S::SupplementRequired => Ok(S::AtAgency),
            S::PickedUp | S::InTransit if ctx.has_send_leg() => Ok(S::AtAgency),
            S::Requested if !ctx.has_send_leg() => Ok(S::AtAgency),
            _ => Err(R::OutOfOrder),
        },
        E::SupplementRequired => match status {
            S::AtAgency => Ok(S::SupplementRequired),
            _ => Err(R::OutOfOrder),
        },
        E::ResultReady { .. } => match status {
            S::AtAgency | S::SupplementRequired => Ok(S::ResultReady),
            S::Requested if !ctx.has_send_leg() => Ok(S::ResultReady),
            _ => Err(R::OutOfOrder),
        },
        E::Collected => match status {
            S::ResultReady => Ok(S::OutForDelivery),
            _ => Err(R::OutOfOrder),
        },
        E::Delivered => match status {
            S::OutForDelivery => Ok(S::Completed),
            _ => Err(R::OutOfOrder),
        },
        E::HeldAtPostOffice => match status {
            S::OutForDelivery => unchanged,
            _ => Err(R::OutOfOrder),
        },
        E::HandedOverAtCounter => match status {
            S::ResultReady if ctx.result_goes_home() => Err(R::ResultGoesHome),
            S::ResultReady => Ok(S::Completed),
            _ => Err(R::OutOfOrder),
        },
    }
}

/// Cancel: before pickup, or (result only) before the result is collected.
fn cancel(status: DossierStatus, ctx: &Ctx) -> Result<DossierStatus, RejectReason> {
    use DossierStatus as S;
    match (ctx.has_send_leg(), status) {
        (true, S::Requested | S::Scheduled) => Ok(S::Cancelled),
        (true, _) => Err(RejectReason::CancelAfterPickup),
        (false, S::Requested | S::AtAgency | S::SupplementRequired | S::ResultReady) => {
            Ok(S::Cancelled)
        }
        (false, S::OutForDelivery) => Err(RejectReason::CancelAfterCollection),
        (false, _) => Err(RejectReason::OutOfOrder),
    }
}

/// A failed stop: counts against the pickup and delivery limits.
fn failed(
    status: DossierStatus,
    task: TaskKind,
    attempt: u32,
    limits: &AttemptLimits,
) -> Result<DossierStatus, RejectReason> {
    use DossierStatus as S;
    use TaskKind as K;
    if attempt == 0 {
        return Err(RejectReason::BadAttempt);
    }
    match (task, status) {
        (K::Pickup, S::Requested) => Err(RejectReason::NoCourier),
        (K::Pickup, S::Scheduled) if attempt >= limits.max_pickup_attempts => Ok(S::Cancelled),
        (K::Pickup, S::SupplementRequired) if attempt > limits.max_pickup_attempts => {
            Err(RejectReason::AttemptsExhausted(limits.max_pickup_attempts))
        }
        (K::Deliver, S::OutForDelivery) if attempt > limits.max_delivery_attempts => Err(
            RejectReason::AttemptsExhausted(limits.max_delivery_attempts),
        ),
        (K::Pickup, S::Scheduled | S::SupplementRequired)
        | (K::Dropoff, S::PickedUp | S::InTransit)
        | (K::Collect, S::ResultReady)
        | (K::Deliver, S::OutForDelivery) => Ok(status),
        _ => Err(RejectReason::OutOfOrder),
    }
}

/// The task status after a courier's event, checking the event fits the kind of stop.
pub fn apply_task(
    status: TaskStatus,
    kind: TaskKind,
    event: TaskEventType,
) -> Result<TaskStatus, TransitionError> {
    use TaskEventType as T;
    use TaskStatus as S;
    let fits = match event {
        T::Arrived | T::Failed => true,
        T::PickedUp => kind == TaskKind::Pickup,
        T::HandedOver => kind == TaskKind::Dropoff,
        T::Collected => kind == TaskKind::Collect,
        T::Delivered => kind == TaskKind::Deliver,
    };
    let next = match (fits, status, event) {
        (false, ..) => Err(RejectReason::WrongTaskKind(kind)),
        (true, S::Unassigned, _) => Err(RejectReason::TaskUnassigned),
        (true, S::Done | S::Failed | S::Cancelled, _) => Err(RejectReason::TaskClosed),
        (true, S::InProgress, T::Arrived) => Err(RejectReason::AlreadyArrived),
        (true, S::Assigned, T::Arrived) => Ok(S::InProgress),
        (true, S::Assigned | S::InProgress, T::Failed) => Ok(S::Failed),
        (true, S::Assigned | S::InProgress, _) => Ok(S::Done),
    };
    next.map_err(|reason| TransitionError {
        subject: "task",
        state: status.as_str(),
        event: event.as_str(),
        reason,
    })
}

/// The task status after a dispatcher's or operator's action.
pub fn apply_task_action(
    status: TaskStatus,
    action: TaskAction,
) -> Result<TaskStatus, TransitionError> {
    use TaskAction as A;
    use TaskStatus as S;
    let next = match (status, action) {
        (S::Done | S::Cancelled, _) => Err(RejectReason::TaskClosed),
        (S::InProgress, A::Assign | A::Unassign) => Err(RejectReason::TaskStarted),
        (S::Unassigned | S::Assigned | S::Failed, A::Assign) => Ok(S::Assigned),
        (S::Unassigned, A::Unassign) => Err(RejectReason::TaskUnassigned),
        (S::Assigned | S::Failed, A::Unassign) => Ok(S::Unassigned),
        (S::Unassigned | S::Assigned | S::InProgress | S::Failed, A::Cancel) => Ok(S::Cancelled),
    };
    next.map_err(|reason| TransitionError {
        subject: "task",
        state: status.as_str(),
        event: action.as_str(),
        reason,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn refusals_read_in_vietnamese() {
        let reasons = [
            RejectReason::Closed,
            RejectReason::CancelAfterPickup,
            RejectReason::CancelAfterCollection,
            RejectReason::NoSendLeg,
            RejectReason::NoReturnLeg,
            RejectReason::ResultGoesHome,
            RejectReason::NoCourier,
            RejectReason::WithCourier,
            RejectReason::BadAttempt,
            RejectReason::AttemptsExhausted(3),
            RejectReason::WrongTaskKind(TaskKind::Dropoff),
            RejectReason::TaskUnassigned,
            RejectReason::TaskClosed,
            RejectReason::AlreadyArrived,
            RejectReason::TaskStarted,
            RejectReason::OutOfOrder,
        ];
        for r in reasons {
            let vi = r.vi();
            assert!(
                !vi.is_empty() && !vi.contains("the ") && !vi.contains('`'),
                "{vi}"
            );
            assert!(!vi.is_ascii(), "no Vietnamese letters: {vi}");
        }
        assert_eq!(
            RejectReason::WrongTaskKind(TaskKind::Dropoff).vi(),
            "sự kiện không phù hợp với nhiệm vụ “Nộp hồ sơ tại cơ quan”"
        );
    }

    use super::*;
    use DossierStatus as S;
    use TaskKind as K;

    const STATUS_LABELS: [(DossierStatus, &str); 10] = [
        (S::Requested, "Đã tiếp nhận yêu cầu"),
        (S::Scheduled, "Đã lên lịch lấy hồ sơ"),
        (S::PickedUp, "Đã lấy hồ sơ"),
        (S::InTransit, "Đang vận chuyển"),
        (S::AtAgency, "Đã nộp tại cơ quan"),
        (S::SupplementRequired, "Cần bổ sung hồ sơ"),
        (S::ResultReady, "Đã có kết quả"),
        (S::OutForDelivery, "Đang giao kết quả"),
        (S::Completed, "Hoàn thành"),
        (S::Cancelled, "Đã hủy"),
    ];

    #[test]
    fn status_names_and_labels() {
        assert_eq!(S::ALL.len(), STATUS_LABELS.len());
        for (status, label) in STATUS_LABELS {
            assert_eq!(status.label_vi(), label);
            assert_eq!(S::parse(status.as_str()), Ok(status));
            let json = serde_json::to_string(&status).unwrap();
            assert_eq!(json, format!("\"{status}\""));
            assert_eq!(serde_json::from_str::<S>(&json).unwrap(), status);
        }
        assert_eq!(S::PickedUp.as_str(), "picked_up");
        let err = S::parse("PickedUp").unwrap_err();
        assert_eq!(err.to_string(), "unknown dossier status `PickedUp`");
        assert!(S::Completed.is_terminal() && S::Cancelled.is_terminal());
        assert!(!S::OutForDelivery.is_terminal());
    }

    /// Wire names round-trip through `FromStr` and serde; labels are distinct.
    fn round_trips<T>(all: &[T], as_str: fn(T) -> &'static str, label: fn(T) -> &'static str)
    where
        T: Copy + PartialEq + fmt::Debug + Serialize + FromStr,
    {
        let mut labels: Vec<_> = all.iter().map(|v| label(*v)).collect();
        labels.sort_unstable();
        labels.dedup();
        assert_eq!(labels.len(), all.len(), "{all:?}");
        for &v in all {
            assert!(as_str(v).parse::<T>().ok() == Some(v), "{v:?}");
            assert_eq!(serde_json::to_value(v).unwrap(), as_str(v));
        }
    }

    #[test]
    fn other_enums_round_trip() {
        round_trips(Service::ALL, Service::as_str, Service::label_vi);
        round_trips(
            ReturnMethod::ALL,
            ReturnMethod::as_str,
            ReturnMethod::label_vi,
        );
        round_trips(TaskKind::ALL, TaskKind::as_str, TaskKind::label_vi);
        round_trips(TaskStatus::ALL, TaskStatus::as_str, TaskStatus::label_vi);
        round_trips(FailReason::ALL, FailReason::as_str, FailReason::label_vi);
        round_trips(Outcome::ALL, Outcome::as_str, Outcome::label_vi);
        round_trips(
            TaskEventType::ALL,
            TaskEventType::as_str,
            TaskEventType::label_vi,
        );
        round_trips(TaskAction::ALL, TaskAction::as_str, TaskAction::label_vi);
        assert_eq!(Service::parse("return"), Ok(Service::Return));
        assert!("Return".parse::<Service>().is_err());
        assert_eq!(
            FailReason::IncompleteDocuments.as_str(),
            "incomplete_documents"
        );
    }

    fn ctx(service: Service, method: ReturnMethod) -> Ctx {
        Ctx::new(service, method, AttemptLimits::default()).unwrap()
    }

    fn both_home() -> Ctx {
        ctx(Service::Both, ReturnMethod::Home)
    }

    fn window() -> TimeWindow {
        TimeWindow::parse_rfc3339("2026-11-24T08:00:00+07:00", "2026-11-24T11:00:00+07:00").unwrap()
    }

    fn fail(task: TaskKind, attempt: u32) -> DossierEvent {
        DossierEvent::Failed {
            task,
            reason: FailReason::NotHome,
            attempt,
        }
    }

    /// One sample of every event; failures around the default limit of 3.
    fn samples() -> Vec<(&'static str, DossierEvent)> {
        use DossierEvent as E;
        vec![
            ("assign_pickup", E::Assigned { task: K::Pickup }),
            ("assign_dropoff", E::Assigned { task: K::Dropoff }),
            ("assign_collect", E::Assigned { task: K::Collect }),
            ("assign_deliver", E::Assigned { task: K::Deliver }),
            ("unassign_pickup", E::Unassigned { task: K::Pickup }),
            ("unassign_dropoff", E::Unassigned { task: K::Dropoff }),
            ("unassign_collect", E::Unassigned { task: K::Collect }),
            ("unassign_deliver", E::Unassigned { task: K::Deliver }),
            ("reschedule", E::Rescheduled { window: window() }),
            (
                "cancel",
                E::Cancelled {
                    reason: "Người dân đổi ý".into(),
                },
            ),
            ("arrive_pickup", E::Arrived { task: K::Pickup }),
            ("arrive_dropoff", E::Arrived { task: K::Dropoff }),
            ("arrive_collect", E::Arrived { task: K::Collect }),
            ("arrive_deliver", E::Arrived { task: K::Deliver }),
            ("picked_up", E::PickedUp),
            ("fail_pickup_0", fail(K::Pickup, 0)),
            ("fail_pickup_1", fail(K::Pickup, 1)),
            ("fail_pickup_3", fail(K::Pickup, 3)),
            ("fail_pickup_4", fail(K::Pickup, 4)),
            ("fail_dropoff_1", fail(K::Dropoff, 1)),
            ("fail_collect_1", fail(K::Collect, 1)),
            ("fail_deliver_1", fail(K::Deliver, 1)),
            ("fail_deliver_3", fail(K::Deliver, 3)),
            ("fail_deliver_4", fail(K::Deliver, 4)),
            ("transferred", E::Transferred),
            ("handed_over", E::HandedOver),
            ("received", E::Received),
            ("supplement_required", E::SupplementRequired),
            (
                "result_ready",
                E::ResultReady {
                    outcome: Outcome::Approved,
                },
            ),
            ("collected", E::Collected),
            ("delivered", E::Delivered),
            ("held_at_post_office", E::HeldAtPostOffice),
            ("handed_over_at_counter", E::HandedOverAtCounter),
        ]
    }

    type Row = (DossierStatus, &'static str, DossierStatus);

    /// Allowed when the dossier has a send leg (service `send` or `both`).
    const SEND_LEG: &[Row] = &[
        (S::Requested, "assign_pickup", S::Scheduled),
        (S::Requested, "assign_dropoff", S::Requested),
        (S::Requested, "unassign_dropoff", S::Requested),
        (S::Requested, "reschedule", S::Requested),
        (S::Requested, "cancel", S::Cancelled),
        (S::Scheduled, "assign_pickup", S::Scheduled),
        (S::Scheduled, "assign_dropoff", S::Scheduled),
        (S::Scheduled, "unassign_pickup", S::Requested),
        (S::Scheduled, "unassign_dropoff", S::Scheduled),
        (S::Scheduled, "reschedule", S::Scheduled),
        (S::Scheduled, "cancel", S::Cancelled),
        (S::Scheduled, "arrive_pickup", S::Scheduled),
        (S::Scheduled, "picked_up", S::PickedUp),
        (S::Scheduled, "fail_pickup_1", S::Scheduled),
        (S::Scheduled, "fail_pickup_3", S::Cancelled),
        (S::Scheduled, "fail_pickup_4", S::Cancelled),
        (S::PickedUp, "assign_dropoff", S::PickedUp),
        (S::PickedUp, "arrive_dropoff", S::PickedUp),
        (S::PickedUp, "fail_dropoff_1", S::PickedUp),
        (S::PickedUp, "transferred", S::InTransit),
        (S::PickedUp, "handed_over", S::AtAgency),
        (S::PickedUp, "received", S::AtAgency),
        (S::InTransit, "assign_dropoff", S::InTransit),
        (S::InTransit, "arrive_dropoff", S::InTransit),
        (S::InTransit, "fail_dropoff_1", S::InTransit),
        (S::InTransit, "transferred", S::InTransit),
        (S::InTransit, "handed_over", S::AtAgency),
        (S::InTransit, "received", S::AtAgency),
        (S::AtAgency, "handed_over", S::AtAgency),
        (S::AtAgency, "received", S::AtAgency),
        (S::AtAgency, "supplement_required", S::SupplementRequired),
        (S::AtAgency, "result_ready", S::ResultReady),
        (
            S::SupplementRequired,
            "assign_pickup",
            S::SupplementRequired,
        ),
        (
            S::SupplementRequired,
            "assign_dropoff",
            S::SupplementRequired,
        ),
        (
            S::SupplementRequired,
            "unassign_pickup",
            S::SupplementRequired,
        ),
        (
            S::SupplementRequired,
            "unassign_dropoff",
            S::SupplementRequired,
        ),
        (S::SupplementRequired, "reschedule", S::SupplementRequired),
        (
            S::SupplementRequired,
            "arrive_pickup",
            S::SupplementRequired,
        ),
        (S::SupplementRequired, "picked_up", S::PickedUp),
        (
            S::SupplementRequired,
            "fail_pickup_1",
            S::SupplementRequired,
        ),
        (
            S::SupplementRequired,
            "fail_pickup_3",
            S::SupplementRequired,
        ),
        (S::SupplementRequired, "received", S::AtAgency),
        (S::SupplementRequired, "result_ready", S::ResultReady),
    ];

    /// Allowed for `service = return`: no send leg, cancellable until collected.
    const RESULT_ONLY_START: &[Row] = &[
        (S::Requested, "cancel", S::Cancelled),
        (S::Requested, "received", S::AtAgency),
        (S::Requested, "result_ready", S::ResultReady),
        (S::AtAgency, "cancel", S::Cancelled),
        (S::AtAgency, "received", S::AtAgency),
        (S::AtAgency, "supplement_required", S::SupplementRequired),
        (S::AtAgency, "result_ready", S::ResultReady),
        (S::SupplementRequired, "cancel", S::Cancelled),
        (S::SupplementRequired, "received", S::AtAgency),
        (S::SupplementRequired, "result_ready", S::ResultReady),
        (S::ResultReady, "cancel", S::Cancelled),
    ];

    /// Allowed when the result goes home.
    const HOME_RETURN: &[Row] = &[
        (S::ResultReady, "assign_collect", S::ResultReady),
        (S::ResultReady, "assign_deliver", S::ResultReady),
        (S::ResultReady, "unassign_collect", S::ResultReady),
        (S::ResultReady, "unassign_deliver", S::ResultReady),
        (S::ResultReady, "arrive_collect", S::ResultReady),
        (S::ResultReady, "fail_collect_1", S::ResultReady),
        (S::ResultReady, "collected", S::OutForDelivery),
        (S::OutForDelivery, "assign_deliver", S::OutForDelivery),
        (S::OutForDelivery, "arrive_deliver", S::OutForDelivery),
        (S::OutForDelivery, "fail_deliver_1", S::OutForDelivery),
        (S::OutForDelivery, "fail_deliver_3", S::OutForDelivery),
        (S::OutForDelivery, "held_at_post_office", S::OutForDelivery),
        (S::OutForDelivery, "delivered", S::Completed),
    ];

    /// Allowed when the citizen fetches the result at the counter.
    const COUNTER_RETURN: &[Row] = &[(S::ResultReady, "handed_over_at_counter", S::Completed)];

    #[test]
    fn every_status_event_pair_for_every_service() {
        use ReturnMethod::{Counter, Home};
        use Service::{Both, Return, Send};
        let samples = samples();
        let cases: [(Service, ReturnMethod, [&[Row]; 2]); 5] = [
            (Both, Home, [SEND_LEG, HOME_RETURN]),
            (Both, Counter, [SEND_LEG, COUNTER_RETURN]),
            (Send, Home, [SEND_LEG, COUNTER_RETURN]),
            (Send, Counter, [SEND_LEG, COUNTER_RETURN]),
            (Return, Home, [RESULT_ONLY_START, HOME_RETURN]),
        ];
        let mut pairs = 0;
        for (service, method, tables) in cases {
            let ctx = ctx(service, method);
            let allowed = tables.concat();
            for row in &allowed {
                assert!(
                    samples.iter().any(|(n, _)| *n == row.1),
                    "no sample {}",
                    row.1
                );
            }
            let mut accepted = 0;
            for &status in S::ALL {
                for (name, event) in &samples {
                    let want = allowed
                        .iter()
                        .find(|(s, n, _)| *s == status && n == name)
                        .map(|row| row.2);
                    let got = apply(status, event, &ctx);
                    let case = format!("{service}/{method}: {status} + {name}");
                    match (want, got) {
                        (Some(next), got) => {
                            assert_eq!(got, Ok(next), "{case}");
                            accepted += 1;
                        }
                        (None, Ok(next)) => panic!("{case} should be refused, gave {next}"),
                        (None, Err(e)) => {
                            assert_eq!(
                                (e.subject, e.state, e.event),
                                ("dossier", status.as_str(), event.name())
                            );
                        }
                    }
                    pairs += 1;
                }
            }
            assert_eq!(
                accepted,
                allowed.len(),
                "{service}/{method}: duplicate rows"
            );
        }
        assert_eq!(pairs, 5 * 10 * 33);
    }

    fn reason(status: DossierStatus, event: DossierEvent, ctx: &Ctx) -> RejectReason {
        apply(status, &event, ctx).unwrap_err().reason
    }

    #[test]
    fn refusals_say_why() {
        use DossierEvent as E;
        use RejectReason as R;
        let cancel = || E::Cancelled { reason: "x".into() };
        let both = both_home();
        let counter = ctx(Service::Both, ReturnMethod::Counter);
        let result_only = ctx(Service::Return, ReturnMethod::Home);
        let cases = [
            (S::PickedUp, cancel(), both, R::CancelAfterPickup),
            (S::SupplementRequired, cancel(), both, R::CancelAfterPickup),
            (
                S::OutForDelivery,
                cancel(),
                result_only,
                R::CancelAfterCollection,
            ),
            (S::Completed, cancel(), both, R::Closed),
            (S::Cancelled, E::Received, both, R::Closed),
            (
                S::Requested,
                E::Assigned { task: K::Pickup },
                result_only,
                R::NoSendLeg,
            ),
            (S::ResultReady, E::Collected, counter, R::NoReturnLeg),
            (
                S::ResultReady,
                E::HandedOverAtCounter,
                both,
                R::ResultGoesHome,
            ),
            (S::Requested, E::PickedUp, both, R::NoCourier),
            (S::Requested, fail(K::Pickup, 1), both, R::NoCourier),
            (
                S::Requested,
                E::Unassigned { task: K::Pickup },
                both,
                R::NoCourier,
            ),
            (
                S::PickedUp,
                E::Unassigned { task: K::Dropoff },
                both,
                R::WithCourier,
            ),
            (
                S::OutForDelivery,
                E::Unassigned { task: K::Deliver },
                both,
                R::WithCourier,
            ),
            (S::Scheduled, fail(K::Pickup, 0), both, R::BadAttempt),
            (
                S::OutForDelivery,
                fail(K::Deliver, 4),
                both,
                R::AttemptsExhausted(3),
            ),
            (
                S::SupplementRequired,
                fail(K::Pickup, 4),
                both,
                R::AttemptsExhausted(3),
            ),
            (S::Requested, E::Received, both, R::OutOfOrder),
            (S::AtAgency, E::Delivered, both, R::OutOfOrder),
        ];
        for (status, event, ctx, want) in cases {
            assert_eq!(
                reason(status, event.clone(), &ctx),
                want,
                "{status} + {event:?}"
            );
        }
        let err = apply(S::PickedUp, &cancel(), &both).unwrap_err();
        assert_eq!(
            err.to_string(),
            "`cancelled` is not allowed when the dossier is `picked_up`: cannot cancel after pickup"
        );
    }

    #[test]
    fn attempt_limits_come_from_configuration() {
        let limits: AttemptLimits = serde_json::from_str("{}").unwrap();
        assert_eq!(limits, AttemptLimits::default());
        let strict: AttemptLimits =
            serde_json::from_str(r#"{"max_pickup_attempts": 1, "max_delivery_attempts": 5}"#)
                .unwrap();
        assert!(serde_json::from_str::<AttemptLimits>(r#"{"max_attempts": 1}"#).is_err());
        let ctx = Ctx::new(Service::Both, ReturnMethod::Home, strict).unwrap();
        assert_eq!(
            apply(S::Scheduled, &fail(K::Pickup, 1), &ctx),
            Ok(S::Cancelled)
        );
        assert_eq!(
            apply(S::OutForDelivery, &fail(K::Deliver, 5), &ctx),
            Ok(S::OutForDelivery)
        );
        assert!(apply(S::OutForDelivery, &fail(K::Deliver, 6), &ctx).is_err());

        let d = AttemptLimits::default();
        assert!(d.allows_retry(K::Pickup, 2) && !d.allows_retry(K::Pickup, 3));
        assert!(d.allows_retry(K::Deliver, 2) && !d.allows_retry(K::Deliver, 3));
        assert!(d.allows_retry(K::Dropoff, 10) && d.allows_retry(K::Collect, 10));
    }

    #[test]
    fn service_choice_is_checked_once() {
        assert_eq!(
            Ctx::new(
                Service::Return,
                ReturnMethod::Counter,
                AttemptLimits::default()
            ),
            Err(ServiceChoiceError::NothingToCarry)
        );
        let legs = |s: Service, m| (s.has_send_leg(), s.result_goes_home(m));
        assert_eq!(legs(Service::Both, ReturnMethod::Home), (true, true));
        assert_eq!(legs(Service::Both, ReturnMethod::Counter), (true, false));
        assert_eq!(legs(Service::Send, ReturnMethod::Home), (true, false));
        assert_eq!(legs(Service::Return, ReturnMethod::Home), (false, true));
    }

    #[test]
    fn events_are_stored_as_tagged_json() {
        let json = serde_json::to_value(fail(K::Pickup, 2)).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"type": "failed", "task": "pickup", "reason": "not_home", "attempt": 2})
        );
        assert_eq!(
            serde_json::to_value(DossierEvent::PickedUp).unwrap(),
            serde_json::json!({"type": "picked_up"})
        );
        for (name, event) in samples() {
            let json = serde_json::to_value(&event).unwrap();
            assert_eq!(json["type"], event.name(), "{name}");
            assert_eq!(
                serde_json::from_value::<DossierEvent>(json).unwrap(),
                event,
                "{name}"
            );
        }
    }

    fn run(events: &[DossierEvent], ctx: &Ctx) -> Result<DossierStatus, FoldError> {
        fold(events, ctx)
    }

    #[test]
    fn fold_walks_the_whole_life() {
        use DossierEvent as E;
        let result = E::ResultReady {
            outcome: Outcome::Approved,
        };
        let door_to_door = [
            E::Assigned { task: K::Pickup },
            E::Arrived { task: K::Pickup },
            E::PickedUp,
            E::HandedOver,
            E::Received,
            result.clone(),
            E::Assigned { task: K::Collect },
            E::Collected,
            E::Delivered,
        ];
        assert_eq!(run(&door_to_door, &both_home()), Ok(S::Completed));
        assert_eq!(run(&[], &both_home()), Ok(S::Requested));

        // Supplement: new pickup while `supplement_required`, via a post office, lodged again.
        let supplement = [
            E::Assigned { task: K::Pickup },
            E::PickedUp,
            E::Received,
            E::HandedOver,
            E::SupplementRequired,
            E::Rescheduled { window: window() },
            E::Assigned { task: K::Pickup },
            fail(K::Pickup, 1),
            E::PickedUp,
            E::Transferred,
            E::HandedOver,
            result.clone(),
            E::HandedOverAtCounter,
        ];
        let counter = ctx(Service::Both, ReturnMethod::Counter);
        assert_eq!(run(&supplement, &counter), Ok(S::Completed));

        // Result only: the citizen lodged it; received links it, then home delivery.
        let result_only = ctx(Service::Return, ReturnMethod::Home);
        let lodged = [E::Received, result.clone(), E::Collected, E::Delivered];
        assert_eq!(run(&lodged, &result_only), Ok(S::Completed));
        assert_eq!(
            run(std::slice::from_ref(&result), &result_only),
            Ok(S::ResultReady)
        );

        // Send only: tracking continues until the counter hand-over.
        let send_only = ctx(Service::Send, ReturnMethod::Home);
        let send = [
            E::Assigned { task: K::Pickup },
            E::PickedUp,
            E::HandedOver,
            result,
            E::HandedOverAtCounter,
        ];
        assert_eq!(run(&send, &send_only), Ok(S::Completed));
    }

    #[test]
    fn failed_attempts_cancel_or_hold() {
        use DossierEvent as E;
        let assign = E::Assigned { task: K::Pickup };
        let two_fail_then_pickup = [
            assign.clone(),
            fail(K::Pickup, 1),
            fail(K::Pickup, 2),
            E::PickedUp,
        ];
        assert_eq!(run(&two_fail_then_pickup, &both_home()), Ok(S::PickedUp));
        let three_fail = [
            assign.clone(),
            fail(K::Pickup, 1),
            fail(K::Pickup, 2),
            fail(K::Pickup, 3),
        ];
        assert_eq!(run(&three_fail, &both_home()), Ok(S::Cancelled));

        let mut held = vec![
            assign,
            E::PickedUp,
            E::HandedOver,
            E::ResultReady {
                outcome: Outcome::Rejected,
            },
            E::Collected,
        ];
        held.extend((1..=3).map(|n| fail(K::Deliver, n)));
        held.push(E::HeldAtPostOffice);
        assert_eq!(run(&held, &both_home()), Ok(S::OutForDelivery));
        held.push(fail(K::Deliver, 4));
        let err = run(&held, &both_home()).unwrap_err();
        assert_eq!(err.index, held.len() - 1);
        assert_eq!(err.source.reason, RejectReason::AttemptsExhausted(3));
        held.pop();
        held.push(E::Delivered); // at the post-office counter
        assert_eq!(run(&held, &both_home()), Ok(S::Completed));
    }

    #[test]
    fn fold_points_at_the_first_bad_event() {
        use DossierEvent as E;
        let log = [
            E::Assigned { task: K::Pickup },
            E::PickedUp,
            E::Cancelled { reason: "x".into() },
            E::Received,
        ];
        let err = run(&log, &both_home()).unwrap_err();
        assert_eq!(err.index, 2);
        assert_eq!(err.source.reason, RejectReason::CancelAfterPickup);
        assert!(err
            .to_string()
            .starts_with("event #2 does not replay: `cancelled`"));
    }

    #[test]
    fn every_task_status_kind_event_triple() {
        use TaskEventType as T;
        use TaskStatus as TS;
        let completes = [
            (K::Pickup, T::PickedUp),
            (K::Dropoff, T::HandedOver),
            (K::Collect, T::Collected),
            (K::Deliver, T::Delivered),
        ];
        let mut allowed = Vec::new();
        for (kind, done) in completes {
            allowed.extend([
                (TS::Assigned, kind, T::Arrived, TS::InProgress),
                (TS::Assigned, kind, T::Failed, TS::Failed),
                (TS::InProgress, kind, T::Failed, TS::Failed),
                (TS::Assigned, kind, done, TS::Done),
                (TS::InProgress, kind, done, TS::Done),
            ]);
        }
        let mut triples = 0;
        for &status in TS::ALL {
            for &kind in K::ALL {
                for &event in T::ALL {
                    let want = allowed
                        .iter()
                        .find(|(s, k, e, _)| (*s, *k, *e) == (status, kind, event))
                        .map(|row| row.3);
                    let got = apply_task(status, kind, event);
                    match want {
                        Some(next) => assert_eq!(got, Ok(next), "{status} {kind} {event}"),
                        None => assert!(got.is_err(), "{status} {kind} {event} gave {got:?}"),
                    }
                    triples += 1;
                }
            }
        }
        assert_eq!(triples, 6 * 4 * 6);
    }

    #[test]
    fn task_refusals_say_why() {
        use RejectReason as R;
        use TaskEventType as T;
        use TaskStatus as TS;
        let reason = |s, k, e| apply_task(s, k, e).unwrap_err().reason;
        assert_eq!(
            reason(TS::Assigned, K::Dropoff, T::PickedUp),
            R::WrongTaskKind(K::Dropoff)
        );
        assert_eq!(
            reason(TS::Done, K::Pickup, T::Delivered),
            R::WrongTaskKind(K::Pickup)
        );
        assert_eq!(
            reason(TS::Unassigned, K::Pickup, T::Arrived),
            R::TaskUnassigned
        );
        assert_eq!(reason(TS::Done, K::Pickup, T::PickedUp), R::TaskClosed);
        assert_eq!(reason(TS::Failed, K::Deliver, T::Arrived), R::TaskClosed);
        assert_eq!(
            reason(TS::InProgress, K::Collect, T::Arrived),
            R::AlreadyArrived
        );
        assert_eq!(
            apply_task(TS::Assigned, K::Collect, T::Delivered).unwrap_err().to_string(),
            "`delivered` is not allowed when the task is `assigned`: the event does not fit a collect task"
        );
    }

    #[test]
    fn every_task_status_action_pair() {
        use TaskAction as A;
        use TaskStatus as TS;
        let allowed = [
            (TS::Unassigned, A::Assign, TS::Assigned),
            (TS::Assigned, A::Assign, TS::Assigned),
            (TS::Failed, A::Assign, TS::Assigned),
            (TS::Assigned, A::Unassign, TS::Unassigned),
            (TS::Failed, A::Unassign, TS::Unassigned),
            (TS::Unassigned, A::Cancel, TS::Cancelled),
            (TS::Assigned, A::Cancel, TS::Cancelled),
            (TS::InProgress, A::Cancel, TS::Cancelled),
            (TS::Failed, A::Cancel, TS::Cancelled),
        ];
        for &status in TS::ALL {
            for &action in A::ALL {
                let want = allowed
                    .iter()
                    .find(|(s, a, _)| (*s, *a) == (status, action))
                    .map(|r| r.2);
                let got = apply_task_action(status, action);
                match want {
                    Some(next) => assert_eq!(got, Ok(next), "{status} {action}"),
                    None => assert!(got.is_err(), "{status} {action} gave {got:?}"),
                }
            }
        }
        assert_eq!(
            apply_task_action(TS::Done, A::Assign).unwrap_err().reason,
            RejectReason::TaskClosed
        );
        assert_eq!(
            apply_task_action(TS::InProgress, A::Assign)
                .unwrap_err()
                .reason,
            RejectReason::TaskStarted
        );
    }
}
