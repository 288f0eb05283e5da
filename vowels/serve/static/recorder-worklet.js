// Copies the microphone's samples (Float32, one channel) to the page, block by block.
class Recorder extends AudioWorkletProcessor {
  process(inputs) {
    const channel = inputs[0] && inputs[0][0];
    if (channel) this.port.postMessage(channel.slice(0));
    return true;
  }
}
registerProcessor("vowels-recorder", Recorder);
