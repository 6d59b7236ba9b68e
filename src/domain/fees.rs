//! Fees quoted by the operator at intake and collected by the courier at pickup.
//!
//! The postal fee (cước) is a price per leg from the configured `Tariff`: the send
//! leg (door → agency) unless `service = return`, the return leg (agency → door) only
//! when the result goes home. Each leg may carry a surcharge by door–agency distance.
//! The agency fee (lệ phí) is the procedure's, collected on the agency's behalf at
//! pickup; with `service = return` the citizen paid it when lodging, so it is 0 here.
//! Money is whole VND in `i64`; every sum is checked.

use serde::{Deserialize, Serialize};

use crate::domain::dossier::{ReturnMethod, Service};

/// Default price of the send leg, until the province configures its own.
pub const DEFAULT_SEND_LEG_VND: i64 = 25_000;
/// Default price of the return leg, until the province configures its own.
pub const DEFAULT_RETURN_LEG_VND: i64 = 25_000;

/// An extra charge for legs longer than a threshold (remote communes, islands).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DistanceBand {
    /// Applies when the door–agency distance exceeds this many metres.
    pub beyond_m: u32,
    /// Added to each leg's price; bands do not add up, the farthest matching one counts.
    pub surcharge_vnd: i64,
}

/// Why a tariff from configuration was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TariffError {
    /// A price below zero.
    #[error("tariff amount `{0}` must not be negative")]
    Negative(&'static str),
    /// Bands must be listed by strictly increasing distance.
    #[error("distance bands must be listed by strictly increasing `beyond_m`")]
    BandsNotAscending,
}

/// The postal price list of a province, read from configuration and checked once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawTariff")]
pub struct Tariff {
    send_leg_vnd: i64,
    return_leg_vnd: i64,
    distance_bands: Vec<DistanceBand>,
}

/// The configuration shape of a [`Tariff`] before checks.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTariff {
    #[serde(default = "default_send")]
    send_leg_vnd: i64,
    #[serde(default = "default_return")]
    return_leg_vnd: i64,
    #[serde(default)]
    distance_bands: Vec<DistanceBand>,
}

fn default_send() -> i64 {
    DEFAULT_SEND_LEG_VND
}

fn default_return() -> i64 {
    DEFAULT_RETURN_LEG_VND
}

impl TryFrom<RawTariff> for Tariff {
    type Error = TariffError;

    fn try_from(raw: RawTariff) -> Result<Self, Self::Error> {
        Self::new(raw.send_leg_vnd, raw.return_leg_vnd, raw.distance_bands)
    }
}

impl Default for Tariff {
    fn default() -> Self {
        Self {
            send_leg_vnd: DEFAULT_SEND_LEG_VND,
            return_leg_vnd: DEFAULT_RETURN_LEG_VND,
            distance_bands: Vec::new(),
        }
    }
}

impl Tariff {
    /// Builds a tariff, refusing negative prices and unordered bands.
    pub fn new(
        send_leg_vnd: i64,
        return_leg_vnd: i64,
        distance_bands: Vec<DistanceBand>,
    ) -> Result<Self, TariffError> {
        if send_leg_vnd < 0 {
            return Err(TariffError::Negative("send_leg_vnd"));
        }
        if return_leg_vnd < 0 {
            return Err(TariffError::Negative("return_leg_vnd"));
        }
        if distance_bands.iter().any(|b| b.surcharge_vnd < 0) {
            return Err(TariffError::Negative("surcharge_vnd"));
        }
        if distance_bands
            .windows(2)
            .any(|w| w[0].beyond_m >= w[1].beyond_m)
        {
            return Err(TariffError::BandsNotAscending);
        }
        Ok(Self {
            send_leg_vnd,
            return_leg_vnd,
            distance_bands,
        })
    }

    /// Base price of the send leg (door → agency).
    pub fn send_leg_vnd(&self) -> i64 {
        self.send_leg_vnd
    }

    /// Base price of the return leg (agency → door).
    pub fn return_leg_vnd(&self) -> i64 {
        self.return_leg_vnd
    }

    /// Surcharges by distance, nearest first.
    pub fn distance_bands(&self) -> &[DistanceBand] {
        &self.distance_bands
    }

    /// Surcharge per leg for a door–agency distance; none when the distance is unknown.
    pub fn surcharge_vnd(&self, distance_m: Option<u32>) -> i64 {
        let Some(d) = distance_m else { return 0 };
        self.distance_bands
            .iter()
            .rev()
            .find(|b| d > b.beyond_m)
            .map_or(0, |b| b.surcharge_vnd)
    }

    /// The fees for one dossier: legs from the service choice, plus the procedure's agency fee.
    pub fn quote(
        &self,
        service: Service,
        return_method: ReturnMethod,
        agency_fee_vnd: i64,
        distance_m: Option<u32>,
    ) -> Result<Fees, FeeError> {
        let send = service.has_send_leg();
        let ret = service.result_goes_home(return_method);
        if !send && !ret {
            return Err(FeeError::NothingToCarry);
        }
        if agency_fee_vnd < 0 {
            return Err(FeeError::NegativeAgencyFee);
        }
        let surcharge = self.surcharge_vnd(distance_m);
        let leg = |on: bool, base: i64| {
            if on {
                base.checked_add(surcharge)
            } else {
                Some(0)
            }
        };
        let postal_fee_vnd = leg(send, self.send_leg_vnd)
            .zip(leg(ret, self.return_leg_vnd))
            .and_then(|(a, b)| a.checked_add(b))
            .ok_or(FeeError::Overflow)?;
        let agency_fee_vnd = if send { agency_fee_vnd } else { 0 };
        let total_vnd = postal_fee_vnd
            .checked_add(agency_fee_vnd)
            .ok_or(FeeError::Overflow)?;
        Ok(Fees {
            postal_fee_vnd,
            agency_fee_vnd,
            total_vnd,
        })
    }
}

/// Why no quote could be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FeeError {
    /// `service = return` with `return_method = counter`.
    #[error("nothing to carry: service `return` needs return_method `home`")]
    NothingToCarry,
    /// A procedure's fee below zero.
    #[error("the agency fee must not be negative")]
    NegativeAgencyFee,
    /// Amounts beyond what `i64` holds; a configuration error.
    #[error("the fee total overflows")]
    Overflow,
}

/// What the citizen pays, as quoted at intake and shown on the receipt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fees {
    /// Postal fee (cước) for the legs asked for.
    pub postal_fee_vnd: i64,
    /// Agency fee (lệ phí) collected on the agency's behalf.
    pub agency_fee_vnd: i64,
    /// Their sum: the cash the courier collects.
    pub total_vnd: i64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use ReturnMethod::{Counter, Home};
    use Service::{Both, Return, Send};

    fn fees(postal: i64, agency: i64) -> Fees {
        Fees {
            postal_fee_vnd: postal,
            agency_fee_vnd: agency,
            total_vnd: postal + agency,
        }
    }

    #[test]
    fn legs_follow_the_service_choice() {
        let tariff = Tariff::default();
        let cases = [
            (Both, Home, fees(50_000, 50_000)),
            (Both, Counter, fees(25_000, 50_000)),
            (Send, Home, fees(25_000, 50_000)),
            (Send, Counter, fees(25_000, 50_000)),
            (Return, Home, fees(25_000, 0)),
        ];
        for (service, method, want) in cases {
            assert_eq!(
                tariff.quote(service, method, 50_000, None),
                Ok(want),
                "{service}/{method}"
            );
        }
        assert_eq!(
            tariff.quote(Return, Counter, 50_000, None),
            Err(FeeError::NothingToCarry)
        );
        assert_eq!(tariff.quote(Both, Home, 0, None), Ok(fees(50_000, 0)));
    }

    #[test]
    fn distance_bands_add_to_each_leg() {
        let bands = vec![
            DistanceBand {
                beyond_m: 10_000,
                surcharge_vnd: 5_000,
            },
            DistanceBand {
                beyond_m: 30_000,
                surcharge_vnd: 15_000,
            },
        ];
        let tariff = Tariff::new(20_000, 18_000, bands).unwrap();
        for (distance, surcharge) in [
            (None, 0),
            (Some(0), 0),
            (Some(10_000), 0), // "beyond" is strict
            (Some(10_001), 5_000),
            (Some(30_000), 5_000),
            (Some(45_000), 15_000),
        ] {
            assert_eq!(tariff.surcharge_vnd(distance), surcharge, "{distance:?}");
        }
        assert_eq!(
            tariff.quote(Both, Home, 30_000, Some(12_000)),
            Ok(fees(25_000 + 23_000, 30_000))
        );
        assert_eq!(
            tariff.quote(Send, Home, 30_000, Some(40_000)),
            Ok(fees(35_000, 30_000))
        );
    }

    #[test]
    fn tariff_reads_from_configuration() {
        let t: Tariff = serde_json::from_str("{}").unwrap();
        assert_eq!(t, Tariff::default());
        let t: Tariff = serde_json::from_str(
            r#"{"send_leg_vnd": 22000, "return_leg_vnd": 20000,
                "distance_bands": [{"beyond_m": 15000, "surcharge_vnd": 8000}]}"#,
        )
        .unwrap();
        assert_eq!((t.send_leg_vnd(), t.return_leg_vnd()), (22_000, 20_000));
        assert_eq!(t.distance_bands().len(), 1);
        for bad in [
            r#"{"send_leg_vnd": -1}"#,
            r#"{"distance_bands": [{"beyond_m": 5, "surcharge_vnd": -1}]}"#,
            r#"{"distance_bands": [{"beyond_m": 5, "surcharge_vnd": 1}, {"beyond_m": 5, "surcharge_vnd": 2}]}"#,
            r#"{"send_leg": 25000}"#,
        ] {
            assert!(serde_json::from_str::<Tariff>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn refuses_bad_tariffs_and_amounts() {
        assert_eq!(
            Tariff::new(1, -1, vec![]),
            Err(TariffError::Negative("return_leg_vnd"))
        );
        let unordered = vec![
            DistanceBand {
                beyond_m: 20,
                surcharge_vnd: 1,
            },
            DistanceBand {
                beyond_m: 10,
                surcharge_vnd: 2,
            },
        ];
        assert_eq!(
            Tariff::new(1, 1, unordered),
            Err(TariffError::BandsNotAscending)
        );
        let tariff = Tariff::default();
        assert_eq!(
            tariff.quote(Both, Home, -1, None),
            Err(FeeError::NegativeAgencyFee)
        );
        assert_eq!(
            tariff.quote(Both, Home, i64::MAX, None),
            Err(FeeError::Overflow)
        );
        let huge = Tariff::new(i64::MAX, 1, vec![]).unwrap();
        assert_eq!(huge.quote(Both, Home, 0, None), Err(FeeError::Overflow));
    }

    #[test]
    fn fees_serialise_as_in_the_api() {
        assert_eq!(
            serde_json::to_value(fees(25_000, 50_000)).unwrap(),
            serde_json::json!({"postal_fee_vnd": 25000, "agency_fee_vnd": 50000, "total_vnd": 75000})
        );
    }
}
