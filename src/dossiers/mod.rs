//! The dossier life cycle as application services: they run inside one database
//! transaction, take checked domain values, apply the domain's state machine and
//! write the status, the task changes and the appended event together.
//! No HTTP here: handlers call these and serialise the views.

pub mod actions;
pub mod intake;
pub mod precondition;
pub mod presence;
pub mod record;
pub mod view;
