/// Decides whether a PCI function is a compute accelerator, from its class and vendor.
///
/// - class 0x12 (processing accelerators: Gaudi, TPUs, NPUs): always;
/// - class 0x0302 (3D controller: datacenter GPUs) and 0x0380 (other display): always;
/// - class 0x0300 (VGA): only from a GPU vendor, because servers carry a VGA function in their
///   BMC (ASPEED, Matrox) and VMs an emulated one (QEMU, VMware, virtio), none of which compute.
public enum AcceleratorClassifier {
    /// NVIDIA, AMD/ATI, Intel (Arc and data-center GPUs share class 0x0300/0x0380).
    public static let gpuVendors: Set<UInt16> = [0x10de, 0x1002, 0x8086]

    /// - Parameter classCode: base class << 16 | subclass << 8 | programming interface.
    public static func isAccelerator(classCode: UInt32, vendorID: UInt16) -> Bool {
        let baseClass = classCode >> 16
        let subclass = (classCode >> 8) & 0xff
        switch (baseClass, subclass) {
        case (0x12, _): return true
        case (0x03, 0x02), (0x03, 0x80): return true
        case (0x03, 0x00): return gpuVendors.contains(vendorID)
        default: return false
        }
    }
}
