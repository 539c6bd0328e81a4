//! The service/port map: PENPEN runs one WebSocket service per port.

use std::fmt;

/// One PENPEN service. Each listens on its own port (see [`Service::port`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Service {
    /// 20888: login, and the live stream of incoming messages for the session.
    Login,
    /// 21888: send a 1:1 text message.
    Text,
    /// 22888: send an image (1:1 or group); stored images are served here over HTTP GET.
    Image,
    /// 23888: send a voice message (1:1 or group); stored voice files are served here over HTTP GET.
    Voice,
    /// 24888: call signalling (§12).
    CallSignalling,
    /// 25888: send a company broadcast.
    Broadcast,
    /// 26888: send a group text message.
    GroupText,
    /// 27888: message actions: recall (§15.1), forward (§15.3).
    MessageActions,
    /// 28888: upload and send files of any kind; stored files are served here over HTTP GET.
    Files,
    /// 30888: update one's password.
    Password,
    /// 31888: update one's signature.
    Signature,
    /// 32888: conversation settings: mute (PROTOCOL §15.5).
    ConversationSettings,
    /// 33888: update one's presence.
    Presence,
    /// 50888: sync messages (catch-up and history pages).
    SyncMessages,
    /// 51888: sync the directory (departments, jobs, contacts).
    SyncContacts,
    /// 52888: sync the signatures of chosen contacts.
    SyncSignatures,
    /// 53888: sync the caller's discussion groups.
    SyncGroups,
    /// 55888: sync broadcasts.
    SyncBroadcasts,
    /// 60888: create a discussion group.
    GroupCreate,
    /// 61888: change a discussion group's information (its name).
    GroupRename,
    /// 62888: change a discussion group's members.
    GroupMembers,
}

impl Service {
    /// Every service, in port order.
    pub const ALL: [Service; 21] = [
        Service::Login,
        Service::Text,
        Service::Image,
        Service::Voice,
        Service::CallSignalling,
        Service::Broadcast,
        Service::GroupText,
        Service::MessageActions,
        Service::Files,
        Service::Password,
        Service::Signature,
        Service::ConversationSettings,
        Service::Presence,
        Service::SyncMessages,
        Service::SyncContacts,
        Service::SyncSignatures,
        Service::SyncGroups,
        Service::SyncBroadcasts,
        Service::GroupCreate,
        Service::GroupRename,
        Service::GroupMembers,
    ];

    /// The standard port of the service.
    pub const fn port(self) -> u16 {
        match self {
            Service::Login => 20888,
            Service::Text => 21888,
            Service::Image => 22888,
            Service::Voice => 23888,
            Service::CallSignalling => 24888,
            Service::Broadcast => 25888,
            Service::GroupText => 26888,
            Service::MessageActions => 27888,
            Service::Files => 28888,
            Service::Password => 30888,
            Service::Signature => 31888,
            Service::ConversationSettings => 32888,
            Service::Presence => 33888,
            Service::SyncMessages => 50888,
            Service::SyncContacts => 51888,
            Service::SyncSignatures => 52888,
            Service::SyncGroups => 53888,
            Service::SyncBroadcasts => 55888,
            Service::GroupCreate => 60888,
            Service::GroupRename => 61888,
            Service::GroupMembers => 62888,
        }
    }

    /// The service on a standard port, if any.
    pub fn from_port(port: u16) -> Option<Service> {
        Service::ALL.into_iter().find(|s| s.port() == port)
    }

    /// The port of the service when every port is shifted by `offset`, as
    /// deployments and tests do to run several servers on one host.
    ///
    /// Offsets below 1000 keep the ports distinct (services are at least 1000
    /// apart); `None` when the shifted port does not fit in a `u16`.
    pub fn port_with_offset(self, offset: u16) -> Option<u16> {
        self.port().checked_add(offset)
    }

    /// Whether the server carries this service today (every one does; kept
    /// so a port can be reserved again without touching its users).
    pub const fn is_served(self) -> bool {
        true
    }

    /// A short lowercase name for logs and URLs.
    pub const fn name(self) -> &'static str {
        match self {
            Service::Login => "login",
            Service::Text => "text",
            Service::Image => "image",
            Service::Voice => "voice",
            Service::CallSignalling => "call-signalling",
            Service::Broadcast => "broadcast",
            Service::GroupText => "group-text",
            Service::MessageActions => "message-actions",
            Service::Files => "files",
            Service::Password => "password",
            Service::Signature => "signature",
            Service::ConversationSettings => "conversation-settings",
            Service::Presence => "presence",
            Service::SyncMessages => "sync-messages",
            Service::SyncContacts => "sync-contacts",
            Service::SyncSignatures => "sync-signatures",
            Service::SyncGroups => "sync-groups",
            Service::SyncBroadcasts => "sync-broadcasts",
            Service::GroupCreate => "group-create",
            Service::GroupRename => "group-rename",
            Service::GroupMembers => "group-members",
        }
    }
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name(), self.port())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_follow_the_protocol_document() {
        let ports: Vec<u16> = Service::ALL.iter().map(|s| s.port()).collect();
        assert_eq!(
            ports,
            [
                20888, 21888, 22888, 23888, 24888, 25888, 26888, 27888, 28888, 30888, 31888, 32888,
                33888, 50888, 51888, 52888, 53888, 55888, 60888, 61888, 62888
            ]
        );
    }

    #[test]
    fn every_port_maps_back_to_its_service() {
        for service in Service::ALL {
            assert_eq!(Service::from_port(service.port()), Some(service));
        }
        assert_eq!(Service::from_port(20889), None);
    }

    #[test]
    fn offsets_below_one_thousand_keep_ports_distinct() {
        for offset in [0, 1, 500, 999] {
            let mut ports: Vec<u16> = Service::ALL
                .iter()
                .map(|s| s.port_with_offset(offset).expect("fits"))
                .collect();
            ports.sort_unstable();
            ports.dedup();
            assert_eq!(ports.len(), Service::ALL.len());
        }
        assert_eq!(Service::GroupMembers.port_with_offset(5000), None);
    }
}
