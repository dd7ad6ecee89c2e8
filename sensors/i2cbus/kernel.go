package i2cbus

// The i2c-dev interface, from <linux/i2c-dev.h> and <linux/i2c.h>. These numbers and
// layouts are kernel ABI; golang.org/x/sys/unix does not define them.

// ioctl requests on /dev/i2c-N.
const (
	ioctlSlave = 0x0703 // I2C_SLAVE: address for the following transfers
	ioctlFuncs = 0x0705 // I2C_FUNCS: the adapter's functionality mask (unsigned long)
	ioctlSMBus = 0x0720 // I2C_SMBUS: one transfer, struct i2c_smbus_ioctl_data
)

// Functionality bits (I2C_FUNC_*).
const (
	funcI2C                = 0x00000001
	funcSMBusReadByte      = 0x00020000
	funcSMBusWriteByte     = 0x00040000
	funcSMBusReadByteData  = 0x00080000
	funcSMBusWriteByteData = 0x00100000
	funcSMBusReadWordData  = 0x00200000
	funcSMBusWriteWordData = 0x00400000
	funcSMBusReadI2CBlock  = 0x04000000
	funcSMBusWriteI2CBlock = 0x08000000

	funcSMBusAny = funcSMBusReadByte | funcSMBusWriteByte | funcSMBusReadByteData |
		funcSMBusWriteByteData | funcSMBusReadWordData | funcSMBusWriteWordData |
		funcSMBusReadI2CBlock | funcSMBusWriteI2CBlock
)

// read_write and size of struct i2c_smbus_ioctl_data.
const (
	smbusWrite = 0 // I2C_SMBUS_WRITE
	smbusRead  = 1 // I2C_SMBUS_READ

	smbusByte         = 1 // I2C_SMBUS_BYTE: send byte / receive byte
	smbusByteData     = 2 // I2C_SMBUS_BYTE_DATA
	smbusWordData     = 3 // I2C_SMBUS_WORD_DATA
	smbusI2CBlockData = 8 // I2C_SMBUS_I2C_BLOCK_DATA

	smbusBlockMax = 32 // I2C_SMBUS_BLOCK_MAX
)

// smbusData is union i2c_smbus_data: a byte, a word in host byte order, or a block whose
// first byte is the length, followed by up to 32 data bytes and one spare.
type smbusData [smbusBlockMax + 2]byte

// smbusIoctlData is struct i2c_smbus_ioctl_data. Go lays it out as C does on every Linux
// architecture: two bytes, two bytes padding, a 32-bit size, then the pointer at offset 8.
type smbusIoctlData struct {
	readWrite uint8
	command   uint8
	size      uint32
	data      *smbusData
}
