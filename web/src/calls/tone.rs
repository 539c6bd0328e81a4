//! The ringtone (someone calls us) and the ringback tone (our call rings at
//! the other end), made on the spot with an `AudioContext`: no sound file to
//! fetch, cache or fail to load offline.

use penpen_core::call::Tone;
use web_sys::{AudioContext, OscillatorType};

/// One burst of a tone: its frequencies (played together), its length, and
/// the period it repeats with, in seconds.
struct Pattern {
    frequencies: &'static [f32],
    on: f64,
    period: f64,
}

impl Pattern {
    fn of(tone: Tone) -> Pattern {
        match tone {
            // Two notes together for 1.2 s, every 3 s.
            Tone::Ringtone => Pattern {
                frequencies: &[880.0, 1109.0],
                on: 1.2,
                period: 3.0,
            },
            // China's ringback: 450 Hz, one second on, four off.
            Tone::Ringback => Pattern {
                frequencies: &[450.0],
                on: 1.0,
                period: 5.0,
            },
        }
    }
}

/// A tone playing; it stops when dropped.
pub struct Playing {
    context: AudioContext,
    _repeat: gloo::timers::callback::Interval,
}

impl std::fmt::Debug for Playing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Playing")
    }
}

impl Drop for Playing {
    fn drop(&mut self) {
        let _ = self.context.close();
    }
}

/// Starts `tone`, repeating until the result is dropped. None when the
/// browser has no audio output to make it with.
pub fn play(tone: Tone) -> Option<Playing> {
    if !crate::prefs::sound() && tone == Tone::Ringtone {
        // The user silenced sounds: the screen and notification still ring.
        return None;
    }
    let context = AudioContext::new().ok()?;
    // A tab the user has not touched yet starts suspended; a call is worth
    // the attempt (it is refused quietly where the browser insists).
    let _ = context.resume();
    let pattern = Pattern::of(tone);
    burst(&context, &pattern);
    let repeat = gloo::timers::callback::Interval::new((pattern.period * 1000.0) as u32, {
        let context = context.clone();
        move || burst(&context, &Pattern::of(tone))
    });
    Some(Playing {
        context,
        _repeat: repeat,
    })
}

/// Schedules one burst from now, faded in and out so it does not click.
fn burst(context: &AudioContext, pattern: &Pattern) {
    let start = context.current_time();
    let end = start + pattern.on;
    for frequency in pattern.frequencies {
        let (Ok(oscillator), Ok(gain)) = (context.create_oscillator(), context.create_gain())
        else {
            return;
        };
        oscillator.set_type(OscillatorType::Sine);
        oscillator.frequency().set_value(*frequency);
        let level = gain.gain();
        let _ = level.set_value_at_time(0.0, start);
        let _ = level.linear_ramp_to_value_at_time(0.12, start + 0.05);
        let _ = level.set_value_at_time(0.12, end - 0.05);
        let _ = level.linear_ramp_to_value_at_time(0.0, end);
        let connected = oscillator
            .connect_with_audio_node(&gain)
            .and_then(|_| gain.connect_with_audio_node(&context.destination()));
        if connected.is_err() {
            return;
        }
        let _ = oscillator.start_with_when(start);
        let _ = oscillator.stop_with_when(end);
    }
}
