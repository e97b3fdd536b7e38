//! The parameters a SETTINGS frame carries (RFC 9113 section 6.5).

use super::error_code::ErrorCode;
use super::frame_error::FrameError;
use super::frame_header::MAX_FRAME_LEN;

/// Size of one setting in a SETTINGS payload: 16-bit id, 32-bit value.
pub(crate) const SETTING_LEN: usize = 6;

/// The smallest SETTINGS_MAX_FRAME_SIZE a peer may set, and the value in
/// force until it sets one (RFC 9113 section 6.5.2).
pub(crate) const MIN_MAX_FRAME_SIZE: u32 = 1 << 14;

/// The largest flow-control window (2^31 - 1, RFC 9113 section 6.9.1), so
/// also the largest SETTINGS_INITIAL_WINDOW_SIZE a peer may set.
pub(crate) const MAX_WINDOW_SIZE: u32 = (1 << 31) - 1;

/// The settings RFC 9113 section 6.5.2 defines, by their 16-bit ids. Ids it
/// does not define are ignored on receipt, so they need no variant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SettingId {
    /// Most bytes of the HPACK dynamic table the sender lets its peer use.
    HeaderTableSize = 0x1,
    /// Whether the sender (a client) accepts server push: 0 or 1.
    EnablePush = 0x2,
    /// Most streams the sender lets its peer open at once.
    MaxConcurrentStreams = 0x3,
    /// The sender's initial flow-control window for each new stream.
    InitialWindowSize = 0x4,
    /// Largest frame payload the sender accepts.
    MaxFrameSize = 0x5,
    /// Largest header list (decoded) the sender is prepared to accept.
    MaxHeaderListSize = 0x6,
}

impl SettingId {
    /// The setting with this id, or `None` for an id to ignore.
    pub(crate) fn from_code(code: u16) -> Option<SettingId> {
        let id = match code {
            0x1 => SettingId::HeaderTableSize,
            0x2 => SettingId::EnablePush,
            0x3 => SettingId::MaxConcurrentStreams,
            0x4 => SettingId::InitialWindowSize,
            0x5 => SettingId::MaxFrameSize,
            0x6 => SettingId::MaxHeaderListSize,
            _ => return None,
        };
        Some(id)
    }

    /// The id as sent on the wire.
    pub(crate) fn code(self) -> u16 {
        self as u16
    }
}

/// The settings one SETTINGS frame changed, each `None` when the frame left
/// it alone. A setting listed twice takes the later value, as RFC 9113
/// section 6.5 says values are processed in order. Fixed size, so receiving
/// settings allocates nothing; the fields are private so every value in a
/// list has passed the RFC's range checks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct SettingsList {
    /// SETTINGS_HEADER_TABLE_SIZE: the most the peer's HPACK decoder keeps.
    header_table_size: Option<u32>,
    /// SETTINGS_INITIAL_WINDOW_SIZE, validated to be at most 2^31 - 1.
    initial_window_size: Option<u32>,
    /// SETTINGS_MAX_FRAME_SIZE, validated to be in 2^14..=2^24-1.
    max_frame_size: Option<u32>,
}

impl SettingsList {
    /// Reads the settings of a (non-ACK) SETTINGS payload, checking the
    /// length and each known value against RFC 9113 section 6.5.
    pub(crate) fn parse(payload: &[u8]) -> Result<SettingsList, FrameError> {
        let settings = payload.chunks_exact(SETTING_LEN);
        // Section 6.5: a length that is not a multiple of 6 is a connection
        // error of type FRAME_SIZE_ERROR.
        if !settings.remainder().is_empty() {
            return Err(FrameError::Connection(ErrorCode::FRAME_SIZE_ERROR, "SETTINGS length not a multiple of 6"));
        }
        let mut list = SettingsList::default();
        for setting in settings {
            let &[i0, i1, v0, v1, v2, v3] = setting else { continue };
            // Section 6.5.2: an unknown or unsupported id is ignored.
            if let Some(id) = SettingId::from_code(u16::from_be_bytes([i0, i1])) {
                list.set(id, u32::from_be_bytes([v0, v1, v2, v3]))?;
            }
        }
        Ok(list)
    }

    /// Records one received setting after the range check section 6.5.2
    /// asks for; a value out of range is a connection error.
    ///
    /// Only what a server acts on is kept. SETTINGS_MAX_CONCURRENT_STREAMS: a server opens no streams.
    /// SETTINGS_MAX_HEADER_LIST_SIZE: advisory (section 6.5.2), and a
    /// server's heads are small. SETTINGS_ENABLE_PUSH: the engine never
    /// pushes; the value is still checked.
    fn set(&mut self, id: SettingId, value: u32) -> Result<(), FrameError> {
        match id {
            SettingId::HeaderTableSize => self.header_table_size = Some(value),
            SettingId::MaxConcurrentStreams | SettingId::MaxHeaderListSize => {}
            SettingId::EnablePush => {
                if value > 1 {
                    return Err(FrameError::Connection(ErrorCode::PROTOCOL_ERROR, "SETTINGS_ENABLE_PUSH not 0 or 1"));
                }
            }
            SettingId::InitialWindowSize => {
                if value > MAX_WINDOW_SIZE {
                    return Err(FrameError::Connection(
                        ErrorCode::FLOW_CONTROL_ERROR,
                        "SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1",
                    ));
                }
                self.initial_window_size = Some(value);
            }
            SettingId::MaxFrameSize => {
                if !(MIN_MAX_FRAME_SIZE..=MAX_FRAME_LEN as u32).contains(&value) {
                    return Err(FrameError::Connection(
                        ErrorCode::PROTOCOL_ERROR,
                        "SETTINGS_MAX_FRAME_SIZE outside 2^14..=2^24-1",
                    ));
                }
                self.max_frame_size = Some(value);
            }
        }
        Ok(())
    }

    /// The most the peer's HPACK decoder keeps, if set.
    pub(crate) fn header_table_size(&self) -> Option<u32> {
        self.header_table_size
    }

    /// The peer's new initial window for streams, at most 2^31 - 1, if set.
    pub(crate) fn initial_window_size(&self) -> Option<u32> {
        self.initial_window_size
    }

    /// The largest frame payload the peer accepts, in 2^14..=2^24-1, if set.
    pub(crate) fn max_frame_size(&self) -> Option<u32> {
        self.max_frame_size
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A SETTINGS payload listing these (id, value) pairs in order.
    fn payload(settings: &[(u16, u32)]) -> Vec<u8> {
        settings.iter().flat_map(|&(id, value)| id.to_be_bytes().into_iter().chain(value.to_be_bytes())).collect()
    }

    #[test]
    fn ids_round_trip_through_their_codes() {
        for code in 0x1..=0x6 {
            assert_eq!(SettingId::from_code(code).map(SettingId::code), Some(code));
        }
        assert_eq!(SettingId::from_code(0x0), None);
        assert_eq!(SettingId::from_code(0x7), None);
    }

    #[test]
    fn an_empty_payload_changes_nothing() {
        assert_eq!(SettingsList::parse(&[]), Ok(SettingsList::default()));
    }

    #[test]
    fn every_known_setting_is_read() {
        let list = SettingsList::parse(&payload(&[(1, 4096), (2, 0), (3, 100), (4, 65_535), (5, 16_384), (6, 8192)]))
            .expect("valid settings");
        assert_eq!(list.header_table_size(), Some(4096));
        assert_eq!(list.initial_window_size(), Some(65_535));
        assert_eq!(list.max_frame_size(), Some(16_384));
    }

    #[test]
    fn the_last_value_of_a_repeated_setting_wins() {
        let list = SettingsList::parse(&payload(&[(4, 10), (2, 1), (4, 20)])).expect("valid settings");
        assert_eq!(list.initial_window_size(), Some(20));
        assert_eq!(list.max_frame_size(), None);
    }

    #[test]
    fn unknown_ids_are_ignored() {
        let list = SettingsList::parse(&payload(&[(0, 7), (0x8, 1), (0xffff, u32::MAX), (5, 20_000)])).expect("valid");
        assert_eq!(list, SettingsList { max_frame_size: Some(20_000), ..SettingsList::default() });
    }

    #[test]
    fn a_length_not_a_multiple_of_6_is_a_connection_frame_size_error() {
        let mut bytes = payload(&[(3, 5)]);
        bytes.push(0);
        let error = SettingsList::parse(&bytes);
        assert!(matches!(error, Err(FrameError::Connection(ErrorCode::FRAME_SIZE_ERROR, _))));
    }

    #[test]
    fn enable_push_other_than_0_or_1_is_a_connection_protocol_error() {
        let error = SettingsList::parse(&payload(&[(2, 2)]));
        assert!(matches!(error, Err(FrameError::Connection(ErrorCode::PROTOCOL_ERROR, _))));
    }

    #[test]
    fn initial_window_size_above_2_pow_31_minus_1_is_a_connection_flow_control_error() {
        assert!(SettingsList::parse(&payload(&[(4, MAX_WINDOW_SIZE)])).is_ok());
        let error = SettingsList::parse(&payload(&[(4, MAX_WINDOW_SIZE + 1)]));
        assert!(matches!(error, Err(FrameError::Connection(ErrorCode::FLOW_CONTROL_ERROR, _))));
    }

    #[test]
    fn max_frame_size_outside_its_range_is_a_connection_protocol_error() {
        assert!(SettingsList::parse(&payload(&[(5, 16_384), (5, 16_777_215)])).is_ok());
        for value in [0, 16_383, 16_777_216, u32::MAX] {
            let error = SettingsList::parse(&payload(&[(5, value)]));
            assert!(matches!(error, Err(FrameError::Connection(ErrorCode::PROTOCOL_ERROR, _))), "{value}");
        }
    }
}
