// Reading a checkpoint's tag code: the camera (BarcodeDetector where the browser has it,
// otherwise the vendored jsQR decoder), Web NFC where the tablet has it. Typing the code is
// always possible and handled by the page itself.
(function () {
  "use strict";

  var FRAME_INTERVAL_MS = 150;
  // Its sentences come from the page (text.js), like every other tablet script's.
  var t = window.FacilityLogTabletText.t;
  var jsqrLoading = null;

  function loadJsQr(url) {
    if (window.jsQR) return Promise.resolve(window.jsQR);
    if (!jsqrLoading) {
      jsqrLoading = new Promise(function (resolve, reject) {
        var script = document.createElement("script");
        script.src = url;
        script.onload = function () { resolve(window.jsQR); };
        script.onerror = function () { jsqrLoading = null; reject(new Error(t("qr_decoder_missing"))); };
        document.head.appendChild(script);
      });
    }
    return jsqrLoading;
  }

  function nativeDetector() {
    if (!("BarcodeDetector" in window)) return Promise.resolve(null);
    return window.BarcodeDetector.getSupportedFormats().then(function (formats) {
      return formats.indexOf("qr_code") >= 0 ? new window.BarcodeDetector({ formats: ["qr_code"] }) : null;
    }, function () { return null; });
  }

  // A function that reads one frame of `video` and resolves with a code or null.
  function frameReader(video, jsqrUrl) {
    return nativeDetector().then(function (detector) {
      if (detector) {
        return function () {
          return detector.detect(video).then(function (codes) {
            return codes.length ? codes[0].rawValue : null;
          });
        };
      }
      return loadJsQr(jsqrUrl).then(function (jsQR) {
        var canvas = document.createElement("canvas");
        var context = canvas.getContext("2d", { willReadFrequently: true });
        return function () {
          if (!video.videoWidth) return Promise.resolve(null);
          canvas.width = video.videoWidth;
          canvas.height = video.videoHeight;
          context.drawImage(video, 0, 0, canvas.width, canvas.height);
          var image = context.getImageData(0, 0, canvas.width, canvas.height);
          var found = jsQR(image.data, image.width, image.height, { inversionAttempts: "dontInvert" });
          return Promise.resolve(found ? found.data : null);
        };
      });
    });
  }

  // Start the rear camera in `video` and call onCode(code) once for the first code read.
  // Returns stop() at once, so a guard who taps "Stop camera" before the camera has even
  // started still stops it.
  function startCamera(video, jsqrUrl, onCode, onError) {
    var stopped = false;
    var stream = null;
    function stop() {
      stopped = true;
      if (stream) stream.getTracks().forEach(function (track) { track.stop(); });
      video.srcObject = null;
    }
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      onError(new Error(t("no_camera_access")));
      return stop;
    }
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false })
      .then(function (s) {
        stream = s;
        if (stopped) { stop(); return null; }
        video.srcObject = stream;
        return video.play().then(function () { return frameReader(video, jsqrUrl); });
      })
      .then(function (read) {
        if (!read) return;
        function tick() {
          if (stopped) return;
          read().then(function (code) {
            if (stopped) return;
            if (code) {
              stop();
              onCode(code, "qr");
            } else {
              setTimeout(tick, FRAME_INTERVAL_MS);
            }
          }, function () { setTimeout(tick, FRAME_INTERVAL_MS); });
        }
        tick();
      })
      .catch(function (error) {
        var wasStopped = stopped;
        stop();
        if (wasStopped) return;
        onError(error.name === "NotAllowedError"
          ? new Error(t("camera_not_allowed"))
          : error);
      });
    return stop;
  }

  function nfcSupported() {
    return "NDEFReader" in window;
  }

  // The tag code from an NDEF message: a text record, or the last part of a URL record.
  function codeFromMessage(message) {
    for (var i = 0; i < message.records.length; i += 1) {
      var record = message.records[i];
      var decoder = new TextDecoder(record.encoding || "utf-8");
      if (record.recordType === "text") return decoder.decode(record.data);
      if (record.recordType === "url" || record.recordType === "absolute-url") {
        var parts = decoder.decode(record.data).split(/[/=#?]/).filter(Boolean);
        return parts[parts.length - 1];
      }
    }
    return null;
  }

  // Listen for one NFC tag; returns an abort function.
  function readNfc(onCode, onError) {
    var controller = new AbortController();
    var reader = new window.NDEFReader();
    reader.onreading = function (event) {
      var code = codeFromMessage(event.message);
      if (code) {
        controller.abort();
        onCode(code, "nfc");
      } else {
        onError(new Error(t("tag_without_code")));
      }
    };
    reader.onreadingerror = function () { onError(new Error(t("tag_unreadable"))); };
    reader.scan({ signal: controller.signal }).catch(onError);
    return function () { controller.abort(); };
  }

  window.FacilityLogScanner = {
    startCamera: startCamera,
    nfcSupported: nfcSupported,
    readNfc: readNfc,
  };
})();
